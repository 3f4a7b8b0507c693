package tower

import (
	"cmp"
	"slices"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// appendProto writes a bounded, one-line text view of m in the spirit of
// prototext's compact form — `name:value` pairs in field order, nested
// messages in braces, repeated fields repeated, map entries as
// `{key:… value:…}` in key order — stopping soon after renderCap bytes.
// Rendering the whole message with prototext (its String method) cost
// milliseconds for a large message, only for all but 200 characters to be
// thrown away. Unknown fields and extensions are left out.
func appendProto(dst []byte, m protoreflect.Message) []byte {
	if !m.IsValid() {
		return dst
	}
	fields := m.Descriptor().Fields()
	n := 0
	for i := range fields.Len() {
		if len(dst) >= renderCap {
			return dst
		}
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len() && len(dst) < renderCap; j++ {
				dst = appendProtoField(dst, &n, fd, l.Get(j))
			}
		case fd.IsMap():
			dst = appendProtoMap(dst, &n, fd, v.Map())
		default:
			dst = appendProtoField(dst, &n, fd, v)
		}
	}
	return dst
}

// appendProtoField writes one `name:value`, preceded by a space unless it
// is the first (*n counts them).
func appendProtoField(dst []byte, n *int, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	if *n > 0 {
		dst = append(dst, ' ')
	}
	*n++
	dst = append(dst, fd.Name()...)
	dst = append(dst, ':')
	return appendProtoValue(dst, fd, v)
}

func appendProtoMap(dst []byte, n *int, fd protoreflect.FieldDescriptor, m protoreflect.Map) []byte {
	keys := make([]protoreflect.MapKey, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareMapKeys)
	kd, vd := fd.MapKey(), fd.MapValue()
	for _, k := range keys {
		if len(dst) >= renderCap {
			return dst
		}
		if *n > 0 {
			dst = append(dst, ' ')
		}
		*n++
		dst = append(dst, fd.Name()...)
		dst = append(dst, ":{key:"...)
		dst = appendProtoValue(dst, kd, k.Value())
		dst = append(dst, " value:"...)
		dst = appendProtoValue(dst, vd, m.Get(k))
		dst = append(dst, '}')
	}
	return dst
}

// compareMapKeys orders keys as prototext does: false before true, numbers
// by value, strings by bytes.
func compareMapKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case bool:
		return cmp.Compare(boolInt(x), boolInt(b.Bool()))
	case string:
		return cmp.Compare(x, b.String())
	case int32, int64:
		return cmp.Compare(a.Int(), b.Int())
	default:
		return cmp.Compare(a.Uint(), b.Uint())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func appendProtoValue(dst []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		dst = append(dst, '{')
		dst = appendProto(dst, v.Message())
		return append(dst, '}')
	case protoreflect.StringKind:
		return appendQuotedPrefix(dst, v.String())
	case protoreflect.BytesKind:
		b := v.Bytes()
		return appendQuotedPrefix(dst, string(b[:min(len(b), renderCap)]))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return append(dst, ev.Name()...)
		}
		return strconv.AppendInt(dst, int64(v.Enum()), 10)
	case protoreflect.BoolKind:
		return strconv.AppendBool(dst, v.Bool())
	case protoreflect.FloatKind:
		return strconv.AppendFloat(dst, v.Float(), 'g', -1, 32)
	case protoreflect.DoubleKind:
		return strconv.AppendFloat(dst, v.Float(), 'g', -1, 64)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(dst, v.Uint(), 10)
	}
	return strconv.AppendInt(dst, v.Int(), 10) // the signed integer kinds
}

// appendQuotedPrefix quotes at most renderCap bytes of s: what is cut off
// would be cut from the summary anyway.
func appendQuotedPrefix(dst []byte, s string) []byte {
	return strconv.AppendQuote(dst, s[:min(len(s), renderCap)])
}
