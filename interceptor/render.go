package interceptor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tollgate-go/tollgate"
)

// jsonOptions define the params of a request: protojson with proto field
// names and unset fields left out. protojson's mapping applies (64-bit
// integers are JSON strings, enums their names, bytes base64), so manifest
// schemas describe that JSON.
var jsonOptions = protojson.MarshalOptions{UseProtoNames: true}

// params renders a request message as Tollgate params: the protojson text
// (jsonOptions) parsed by tollgate.ParseParams. Rendering to text and
// parsing it back is the largest cost of gating a call, so messages made
// only of the plain kinds are converted directly (renderDirect), with the
// same result; FuzzParamsMatchProtojson holds the two paths together.
func params(msg any) (tollgate.Params, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("interceptor: request is %T, not a protobuf message", msg)
	}
	if p, ok := renderDirect(m.ProtoReflect()); ok {
		return p, nil
	}
	b, err := jsonOptions.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("interceptor: rendering the request as JSON: %w", err)
	}
	return tollgate.ParseParams(b)
}

// renderDirect converts m as protojson then ParseParams would. It declines
// (ok=false) whatever it does not reproduce exactly, leaving it to
// protojson: anything but proto3 (required fields, extensions, groups),
// well-known types (their JSON forms are special), maps, floats, enum
// numbers without a name and invalid UTF-8 (which protojson refuses).
func renderDirect(m protoreflect.Message) (p tollgate.Params, ok bool) {
	md := m.Descriptor()
	if md.Syntax() != protoreflect.Proto3 || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil, false
	}
	// Declaration order is protojson's order; Has is what it prints.
	fields := md.Fields()
	p = make(tollgate.Params, 0, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		if fd.IsMap() {
			return nil, false
		}
		var v any
		if fd.IsList() {
			list := m.Get(fd).List()
			items := make([]any, list.Len())
			for j := range items {
				if items[j], ok = renderValue(fd, list.Get(j)); !ok {
					return nil, false
				}
			}
			v = items
		} else if v, ok = renderValue(fd, m.Get(fd)); !ok {
			return nil, false
		}
		p = append(p, tollgate.Field{Key: fd.TextName(), Value: v})
	}
	return p, true
}

// renderValue converts one singular value of field fd.
func renderValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) (any, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		s := v.String()
		return s, utf8.ValidString(s)
	case protoreflect.BoolKind:
		return v.Bool(), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return json.Number(strconv.FormatInt(v.Int(), 10)), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10), true
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes()), true
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil || strings.HasPrefix(string(fd.Enum().FullName()), "google.protobuf.") {
			return nil, false
		}
		return string(ev.Name()), true
	case protoreflect.MessageKind:
		p, ok := renderDirect(v.Message())
		return p, ok
	}
	return nil, false // floats: protojson's number formatting is its own
}
