package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/structpb"

	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
)

// descriptorSet writes what protoc --include_imports --descriptor_set_out
// writes for files — each file and everything it imports, imports first —
// from the descriptors linked into the test, so no protoc is needed.
func descriptorSet(t *testing.T, files ...protoreflect.FileDescriptor) string {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		for i := range f.Imports().Len() {
			add(f.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	for _, f := range files {
		add(f)
	}
	return writeSet(t, &set)
}

func writeSet(t *testing.T, set *descriptorpb.FileDescriptorSet) string {
	t.Helper()
	data, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return mkfile(t, filepath.Join(t.TempDir(), "set.binpb"), data)
}

func TestLintFieldsTickets(t *testing.T) {
	set := descriptorSet(t, ticketsv1.File_tickets_v1_tickets_proto)
	const m = "testdata/lint_fields_manifest.yaml"
	r := cli(t, nil, "lint", "--manifest", m, "--descriptor-set", set,
		"--tool-method", "api:assign=/tickets.v1.TicketService/AssignTicket").want(t, exitFailed)
	want := []string{
		m + `:8:18: error: tool "/tickets.v1.TicketService/CloseTicket": schema required entry "ticketId" matches no field of tickets.v1.CloseTicketRequest (fields are named by their proto names: did you mean "ticket_id"?); params never have it, so what the manifest says about it never runs [unknown-field]`,
		m + `:10:9: error: tool "/tickets.v1.TicketService/CloseTicket": schema property "ticketId" matches no field of tickets.v1.CloseTicketRequest (fields are named by their proto names: did you mean "ticket_id"?); params never have it, so what the manifest says about it never runs [unknown-field]`,
		m + `:14:9: error: tool "/tickets.v1.TicketService/CloseTicket": param_constraints key "Resolution" matches no field of tickets.v1.CloseTicketRequest (fields are named by their proto names: did you mean "resolution"?); params never have it, so what the manifest says about it never runs [unknown-field]`,
		m + `:25:9: error: tool "/tickets.v1.TicketService/FetchAttachment": schema property "attachment" matches no field of tickets.v1.FetchAttachmentRequest (fields are named by their proto names: it has ticket_id, url); params never have it, so what the manifest says about it never runs [unknown-field]`,
		m + `:28:3: warning: tool "/tickets.v1.TicketService/CloseTickets": service tickets.v1.TicketService has no method CloseTickets (it has GetTicket, CloseTicket, DeleteTicket, FetchAttachment, AssignTicket, WatchTickets, BulkUpdate), so no call is ever this tool [unknown-method]`,
		m + `:47:9: error: tool "api:assign": param_constraints key "assignee_email" matches no field of tickets.v1.AssignTicketRequest (fields are named by their proto names: it has ticket_id, assignee); params never have it, so what the manifest says about it never runs [unknown-field]`,
		"5 error(s), 1 warning(s)",
	}
	if got := strings.Split(strings.TrimSpace(r.stdout), "\n"); !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
	}

	// The same findings as JSON, with the check names.
	r = cli(t, nil, "lint", "--manifest", m, "--descriptor-set", set, "--format", "json").want(t, exitFailed)
	var out struct{ Findings []finding }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 5 || out.Findings[0].Check != "unknown-field" || out.Findings[0].Line != 8 || out.Findings[0].Column != 18 {
		t.Errorf("findings %+v", out.Findings)
	}

	// Without the descriptor set the names cannot be checked.
	cli(t, nil, "lint", "--manifest", m).want(t, 0)
}

// TestLintFieldsExampleIsClean keeps the tickets example's manifest true
// to its service.
func TestLintFieldsExampleIsClean(t *testing.T) {
	set := descriptorSet(t, ticketsv1.File_tickets_v1_tickets_proto)
	r := cli(t, nil, "lint", "--manifest", "../../examples/tickets/manifest.yaml", "--descriptor-set", set, "--strict").want(t, 0)
	if r.stdout != "OK: no problems in 1 file(s)\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// nestedFile is a service whose request nests messages: a message field,
// a repeated message, a map, a oneof and a google.protobuf.Struct.
func nestedFile(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	msg := func(name string, fields ...*descriptorpb.FieldDescriptorProto) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fields}
	}
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string, repeated bool) *descriptorpb.FieldDescriptorProto {
		label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		if repeated {
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		}
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(), Label: label.Enum(),
			JsonName: proto.String(jsonName(name))}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const (
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		sub = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	labelsEntry := msg("LabelsEntry", field("key", 1, str, "", false), field("value", 2, str, "", false))
	labelsEntry.Options = &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}
	email := field("email_address", 3, str, "", false)
	phone := field("phone_number", 4, str, "", false)
	email.OneofIndex, phone.OneofIndex = proto.Int32(0), proto.Int32(0)
	contact := msg("Contact", field("display_name", 1, str, "", false), field("labels", 2, sub, ".shop.v1.Contact.LabelsEntry", true), email, phone)
	contact.NestedType = []*descriptorpb.DescriptorProto{labelsEntry}
	contact.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("reach")}}
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("shop/v1/shop.proto"), Package: proto.String("shop.v1"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/protobuf/struct.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			contact,
			msg("Line", field("sku_id", 1, str, "", false), field("quantity", 2, descriptorpb.FieldDescriptorProto_TYPE_INT32, "", false)),
			msg("OrderRequest", field("order_id", 1, str, "", false), field("customer", 2, sub, ".shop.v1.Contact", false),
				field("lines", 3, sub, ".shop.v1.Line", true), field("extra", 4, sub, ".google.protobuf.Struct", false)),
			msg("OrderReply"),
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Shop"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Order"), InputType: proto.String(".shop.v1.OrderRequest"), OutputType: proto.String(".shop.v1.OrderReply")},
		}}},
	}
	f, err := protodesc.NewFile(fdp, protoregistryWith(t, structpb.File_google_protobuf_struct_proto))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func protoregistryWith(t *testing.T, files ...protoreflect.FileDescriptor) *protoregistry.Files {
	t.Helper()
	r := new(protoregistry.Files)
	for _, f := range files {
		if err := r.RegisterFile(f); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// jsonName is protoc's lowerCamel JSON name.
func jsonName(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r, up = []rune(strings.ToUpper(string(r)))[0], false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestLintFieldsNested(t *testing.T) {
	set := descriptorSet(t, nestedFile(t))
	m := mkfile(t, filepath.Join(t.TempDir(), "shop.yaml"), []byte(`tools:
  "/shop.v1.Shop/Order":
    effect: write
    resource_type: order
    params_schema:
      type: object
      properties:
        order_id: {type: string}
        customer:
          type: object
          required: [display_name, emailAddress]
          properties:
            displayName: {type: string}
            email_address: {type: string}
            labels:
              type: object
              properties: {anyKey: {type: string}}
        lines:
          type: array
          items:
            type: object
            properties:
              skuId: {type: string}
              quantity: {type: integer}
        extra:
          type: object
          properties: {whatever: {type: string}}
      anyOf:
        - properties: {order_Id: {type: string}}
`))
	r := cli(t, nil, "lint", "--manifest", m, "--descriptor-set", set).want(t, exitFailed)
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if _, msg, ok := strings.Cut(l, ": error: "); ok {
			pos := strings.TrimPrefix(l[:len(l)-len(msg)-len(": error: ")], m)
			got = append(got, pos+" "+msg[:strings.Index(msg, " (fields")])
		}
	}
	want := []string{
		`:11:36 tool "/shop.v1.Shop/Order": schema required entry "emailAddress" under "customer" matches no field of shop.v1.Contact`,
		`:13:13 tool "/shop.v1.Shop/Order": schema property "displayName" under "customer" matches no field of shop.v1.Contact`,
		`:23:15 tool "/shop.v1.Shop/Order": schema property "skuId" under "lines" matches no field of shop.v1.Line`,
		`:29:24 tool "/shop.v1.Shop/Order": schema property "order_Id" matches no field of shop.v1.OrderRequest`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\ngot:\n%s\nwant:\n%s", r.stdout, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Map keys (labels) and Struct keys (extra) are data, not fields; a
	// oneof member (email_address) is a field like any other.
	if !strings.Contains(r.stdout, `did you mean "email_address"?`) || !strings.Contains(r.stdout, `did you mean "sku_id"?`) ||
		!strings.Contains(r.stdout, `did you mean "order_id"?`) || strings.Contains(r.stdout, "anyKey") || strings.Contains(r.stdout, "whatever") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestLintDescriptorSetErrors(t *testing.T) {
	dir := t.TempDir()
	const m = "testdata/lint_fields_manifest.yaml"
	good := descriptorSet(t, ticketsv1.File_tickets_v1_tickets_proto)
	// The nested file without struct.proto, as protoc writes it without
	// --include_imports.
	nested := protodesc.ToFileDescriptorProto(nestedFile(t))
	noImports := writeSet(t, &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{nested}})
	// The same file name defined differently in a second set.
	changed := protodesc.ToFileDescriptorProto(ticketsv1.File_tickets_v1_tickets_proto)
	changed.MessageType = changed.MessageType[:len(changed.MessageType)-1]
	changed.Service = nil
	conflicting := writeSet(t, &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{changed}})
	empty := writeSet(t, &descriptorpb.FileDescriptorSet{})

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"missing file":    {[]string{"--manifest", m, "--descriptor-set", filepath.Join(dir, "nope.pb")}, "no such file"},
		"a YAML file":     {[]string{"--manifest", m, "--descriptor-set", m}, "not a FileDescriptorSet (write one with protoc --include_imports"},
		"an empty set":    {[]string{"--manifest", m, "--descriptor-set", empty}, "is empty"},
		"no imports":      {[]string{"--manifest", m, "--descriptor-set", noImports}, "build it with --include_imports"},
		"conflicting":     {[]string{"--manifest", m, "--descriptor-set", good, "--descriptor-set", conflicting}, "tickets/v1/tickets.proto differs from the file of the same name"},
		"no manifest":     {[]string{"--descriptor-set", good, "--policy", "testdata/policy.yaml"}, "give --manifest too"},
		"mapping no set":  {[]string{"--manifest", m, "--tool-method", "a=/tickets.v1.TicketService/GetTicket"}, "--tool-method needs --descriptor-set"},
		"mapping no =":    {[]string{"--manifest", m, "--descriptor-set", good, "--tool-method", "api:assign"}, "want TOOL=/package.Service/Method"},
		"mapping bad":     {[]string{"--manifest", m, "--descriptor-set", good, "--tool-method", "a=tickets.v1.TicketService.GetTicket"}, "is not a full method name"},
		"mapping unknown": {[]string{"--manifest", m, "--descriptor-set", good, "--tool-method", "a=/tickets.v1.Nope/GetTicket"}, "the descriptor set has no service tickets.v1.Nope"},
		"mapping message": {[]string{"--manifest", m, "--descriptor-set", good, "--tool-method", "a=/tickets.v1.Ticket/GetTicket"}, "the descriptor set has no service tickets.v1.Ticket"},
		"mapping method":  {[]string{"--manifest", m, "--descriptor-set", good, "--tool-method", "a=/tickets.v1.TicketService/Nope"}, "has no method Nope"},
	} {
		t.Run(name, func(t *testing.T) {
			cli(t, nil, append([]string{"lint"}, tc.args...)...).want(t, exitUsage).oneLineErr(t, tc.want)
		})
	}
	// A set that repeats a file exactly (two overlapping builds) is fine.
	cli(t, nil, "lint", "--manifest", "../../examples/tickets/manifest.yaml", "--descriptor-set", good, "--descriptor-set", good).want(t, 0)
}
