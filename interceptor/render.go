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
// names, and with the zero value of every field that has no presence
// (EmitDefaultValues: "" for a string, 0, false, the first enum value, []
// for a list, {} for a map). Proto3 cannot tell such a field's zero value
// from unset, so it is always there and a constraint on it always runs.
// Fields with presence (messages, optional fields, oneof members) stay
// absent when unset. protojson's mapping applies (64-bit integers are JSON
// strings, enums their names, bytes base64), so manifest schemas describe
// that JSON.
var jsonOptions = protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}

// params renders a request message as Tollgate params: the protojson text
// (jsonOptions) parsed by tollgate.ParseParams. Rendering to text and
// parsing it back is the largest cost of gating a call, so messages made
// only of the plain kinds are converted directly (renderDirect), with the
// same result; FuzzParamsMatchProtojson holds the two paths together. The
// rendering is deterministic, so a client that sends the same message
// again gets the same params and request hash (deferred approvals).
func params(m proto.Message) (tollgate.Params, error) {
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
// well-known types (their JSON forms are special), populated maps, floats
// other than an unset zero, enum numbers without a name and invalid UTF-8
// (which protojson refuses).
func renderDirect(m protoreflect.Message) (p tollgate.Params, ok bool) {
	md := m.Descriptor()
	if md.Syntax() != protoreflect.Proto3 || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil, false
	}
	// Declaration order is protojson's order.
	fields := md.Fields()
	p = make(tollgate.Params, 0, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		var v any
		switch {
		case !m.Has(fd):
			if fd.HasPresence() || fd.ContainingOneof() != nil {
				continue // unset, and proto3 can tell
			}
			if v, ok = zeroValue(fd, m.Get(fd)); !ok {
				return nil, false
			}
		case fd.IsMap():
			return nil, false
		case fd.IsList():
			list := m.Get(fd).List()
			items := make([]any, list.Len())
			for j := range items {
				if items[j], ok = renderValue(fd, list.Get(j)); !ok {
					return nil, false
				}
			}
			v = items
		default:
			if v, ok = renderValue(fd, m.Get(fd)); !ok {
				return nil, false
			}
		}
		p = append(p, tollgate.Field{Key: fd.TextName(), Value: v})
	}
	return p, true
}

// zeroValue renders an unset field without presence as EmitDefaultValues
// does: empty lists and maps, and the scalar's zero value as renderValue
// formats it (floats aside: protojson prints a zero as 0).
func zeroValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) (any, bool) {
	switch {
	case fd.IsMap():
		return tollgate.Params{}, true
	case fd.IsList():
		return []any{}, true
	case fd.Kind() == protoreflect.FloatKind || fd.Kind() == protoreflect.DoubleKind:
		return json.Number("0"), true
	}
	return renderValue(fd, v)
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
