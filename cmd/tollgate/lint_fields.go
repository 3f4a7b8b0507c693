package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// maxDescriptorSetSize bounds a --descriptor-set file. Sets built with
// --include_imports carry every dependency; large API surfaces (all of
// googleapis) stay well under this.
const maxDescriptorSetSize = 64 << 20

// services is what lint knows about the gated services: the descriptor
// sets given with --descriptor-set and the --tool-method mappings for
// manifest keys that are not method names.
type services struct {
	files   *protoregistry.Files
	methods map[string]string // manifest key → "/pkg.Service/Method"
}

// loadServices reads the descriptor sets (FileDescriptorSet, as protoc
// --include_imports --descriptor_set_out and buf build -o write them) and
// parses the KEY=METHOD mappings. It returns nil when no set is given.
func loadServices(sets, mappings []string) (*services, error) {
	if len(sets) == 0 {
		if len(mappings) > 0 {
			return nil, errors.New("--tool-method needs --descriptor-set: the methods' request messages come from it")
		}
		return nil, nil
	}
	var all descriptorpb.FileDescriptorSet
	seen := make(map[string]*descriptorpb.FileDescriptorProto)
	for _, path := range sets {
		data, err := readFile(path, maxDescriptorSetSize)
		if err != nil {
			return nil, err
		}
		var set descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(data, &set); err != nil || len(set.GetFile()) == 0 {
			return nil, fmt.Errorf("%s: not a FileDescriptorSet (write one with protoc --include_imports --descriptor_set_out=%s, or buf build -o %s)", path, path, path)
		}
		for _, f := range set.GetFile() {
			// Sets built from overlapping roots share files (imports);
			// one file defined two ways is a mistake, not a merge.
			if prev, ok := seen[f.GetName()]; ok {
				if !proto.Equal(prev, f) {
					return nil, fmt.Errorf("%s: %s differs from the file of the same name in an earlier descriptor set", path, f.GetName())
				}
				continue
			}
			seen[f.GetName()] = f
			all.File = append(all.File, f)
		}
	}
	files, err := protodesc.NewFiles(&all)
	if err != nil {
		return nil, fmt.Errorf("descriptor set: %v (build it with --include_imports so that every imported file is in it)", err)
	}
	s := &services{files: files, methods: make(map[string]string)}
	for _, m := range mappings {
		key, method, ok := strings.Cut(m, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--tool-method %q: want TOOL=/package.Service/Method", m)
		}
		if _, err := s.method(method); err != nil {
			return nil, fmt.Errorf("--tool-method %q: %v", m, err)
		}
		s.methods[key] = method
	}
	return s, nil
}

// method finds a full method name, "/package.Service/Method".
func (s *services) method(full string) (protoreflect.MethodDescriptor, error) {
	svc, name, ok := splitMethod(full)
	if !ok {
		return nil, fmt.Errorf("%q is not a full method name such as /tickets.v1.TicketService/CloseTicket", full)
	}
	d, err := s.files.FindDescriptorByName(svc)
	sd, isService := d.(protoreflect.ServiceDescriptor)
	if err != nil || !isService {
		return nil, fmt.Errorf("the descriptor set has no service %s", svc)
	}
	md := sd.Methods().ByName(name)
	if md == nil {
		methods := sd.Methods()
		return nil, fmt.Errorf("service %s has no method %s (it has %s)", svc, name,
			nameList(methods.Len(), func(i int) protoreflect.Name { return methods.Get(i).Name() }))
	}
	return md, nil
}

// splitMethod splits "/package.Service/Method", the form grpc-go and
// connect-go give the interceptors and the default tool key.
func splitMethod(full string) (protoreflect.FullName, protoreflect.Name, bool) {
	rest, ok := strings.CutPrefix(full, "/")
	svc, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !protoreflect.FullName(svc).IsValid() || !protoreflect.Name(name).IsValid() {
		return "", "", false
	}
	return protoreflect.FullName(svc), protoreflect.Name(name), true
}

// lintFields checks the field names a manifest uses — params_schema
// properties and required entries (nested too) and param_constraints keys —
// against the request message of each tool's method. Params are the
// request rendered with proto field names, so a name that is not a field
// (often the lowerCamel JSON name) is never present: its schema rule and
// its constraints never run.
func (s *services) lintFields(doc *yamlx.Document) []finding {
	tools := child(doc, doc.Root, "tools")
	if tools == nil {
		return nil
	}
	entries, _ := doc.Mapping(tools, "tools")
	var out []finding
	for _, e := range entries {
		method, mapped := s.methods[e.Key]
		if !mapped {
			method = e.Key
		}
		svc, _, ok := splitMethod(method)
		if !ok {
			continue // a key such as "api:fetch", mapped to no method
		}
		if _, err := s.files.FindDescriptorByName(svc); err != nil {
			continue // a service the descriptor sets do not cover
		}
		md, err := s.method(method)
		if err != nil {
			out = append(out, finding{File: doc.File, Line: e.KeyNode.Line, Column: e.KeyNode.Column, Severity: sevWarning, Check: "unknown-method",
				Message: fmt.Sprintf("tool %q: %v, so no call is ever this tool", e.Key, err)})
			continue
		}
		c := fieldCheck{doc: doc, tool: e.Key}
		c.schema(child(doc, e.ValueNode, "params_schema"), md.Input(), "")
		if pcs := child(doc, child(doc, e.ValueNode, "constraints"), "param_constraints"); pcs != nil {
			pairs, _ := doc.Mapping(pcs, "param_constraints")
			for _, p := range pairs {
				if md.Input().Fields().ByName(protoreflect.Name(p.Key)) == nil {
					c.report(p.KeyNode, "param_constraints key", p.Key, "", md.Input())
				}
			}
		}
		out = append(out, c.out...)
	}
	return out
}

// fieldCheck walks one tool's schema beside its request message.
type fieldCheck struct {
	doc  *yamlx.Document
	tool string
	out  []finding
}

// schema checks an object schema n against message md: its properties,
// its required entries and its allOf/anyOf/oneOf branches (which describe
// the same object). under is the property path that led here.
func (c *fieldCheck) schema(n *yaml.Node, md protoreflect.MessageDescriptor, under string) {
	if n == nil {
		return
	}
	if props := child(c.doc, n, "properties"); props != nil {
		pairs, _ := c.doc.Mapping(props, "properties")
		for _, p := range pairs {
			fd := md.Fields().ByName(protoreflect.Name(p.Key))
			if fd == nil {
				c.report(p.KeyNode, "schema property", p.Key, under, md)
				continue
			}
			c.field(p.ValueNode, fd, join(under, p.Key))
		}
	}
	if req := child(c.doc, n, "required"); req != nil {
		items, _ := c.doc.Sequence(req, "required")
		for _, item := range items {
			if item.Kind == yaml.ScalarNode && md.Fields().ByName(protoreflect.Name(item.Value)) == nil {
				c.report(item, "schema required entry", item.Value, under, md)
			}
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if branches := child(c.doc, n, k); branches != nil {
			items, _ := c.doc.Sequence(branches, k)
			for _, b := range items {
				c.schema(b, md, under)
			}
		}
	}
}

// field follows a property's schema into the field's message, when the
// field renders as a JSON object with field names: a message (each item's
// schema for a repeated one). Map keys are data, not fields, and the
// well-known types (Struct, Any, Timestamp, wrappers…) have protojson
// forms of their own, so neither is followed.
func (c *fieldCheck) field(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) {
	if fd.IsMap() || fd.Message() == nil || strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.") {
		return
	}
	if fd.IsList() {
		n = child(c.doc, n, "items")
	}
	c.schema(n, fd.Message(), path)
}

func (c *fieldCheck) report(at *yaml.Node, what, name, under string, md protoreflect.MessageDescriptor) {
	where := ""
	if under != "" {
		where = " under " + strconv.Quote(under)
	}
	c.out = append(c.out, finding{File: c.doc.File, Line: at.Line, Column: at.Column, Severity: sevError, Check: "unknown-field",
		Message: fmt.Sprintf("tool %q: %s %q%s matches no field of %s (fields are named by their proto names: %s); params never have it, so what the manifest says about it never runs",
			c.tool, what, name, where, md.FullName(), suggest(name, md))})
}

// suggest names the field meant: the one whose JSON name is name (the
// usual mistake: ticketId for ticket_id), else one equal but for case and
// separators; otherwise it lists the fields.
func suggest(name string, md protoreflect.MessageDescriptor) string {
	fields := md.Fields()
	fold := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	for i := range fields.Len() {
		if fields.Get(i).JSONName() == name {
			return fmt.Sprintf("did you mean %q?", fields.Get(i).Name())
		}
	}
	for i := range fields.Len() {
		if fold(string(fields.Get(i).Name())) == fold(name) {
			return fmt.Sprintf("did you mean %q?", fields.Get(i).Name())
		}
	}
	if fields.Len() == 0 {
		return "the message has none"
	}
	return "it has " + fieldNames(fields)
}

// nameList lists n descriptor names, at most 12.
func nameList(n int, name func(int) protoreflect.Name) string {
	const most = 12
	var out []string
	for i := range min(n, most) {
		out = append(out, string(name(i)))
	}
	if n > most {
		out = append(out, fmt.Sprintf("and %d more", n-most))
	}
	return strings.Join(out, ", ")
}

func fieldNames(fields protoreflect.FieldDescriptors) string {
	return nameList(fields.Len(), func(i int) protoreflect.Name { return fields.Get(i).Name() })
}

func join(under, key string) string {
	if under == "" {
		return key
	}
	return under + "." + key
}
