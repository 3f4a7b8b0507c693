package tower

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// appendJSON appends what json.Marshal writes for v, byte for byte, but
// stops soon after the text passes renderCap bytes. It encodes the common
// shapes of a result itself — maps with string keys, slices, arrays,
// pointers, plain structs, strings, numbers — and hands anything subtler
// (Marshaler and TextMarshaler types, embedded fields, the ",string" and
// ",omitzero" options, other map keys) to json.Marshal, which renders that
// part in full. An error means the caller should render v the old way.
func appendJSON(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	if len(dst) >= renderCap {
		return dst, nil
	}
	if depth > maxJSONDepth {
		return dst, errUnsupported // a cycle, most likely: json.Marshal reports it
	}
	if !v.IsValid() {
		return append(dst, "null"...), nil
	}
	t := v.Type()
	if delegated(t) || (v.CanAddr() && delegated(reflect.PointerTo(t))) {
		return marshalAppend(dst, v)
	}
	switch v.Kind() {
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return appendJSONFloat(dst, v.Float(), t.Bits())
	case reflect.String:
		return appendJSONString(dst, v.String()), nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return appendJSON(dst, v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if isByteSlice(t) {
			return appendBase64(dst, v.Bytes()), nil
		}
		return appendJSONArray(dst, v, depth)
	case reflect.Array:
		return appendJSONArray(dst, v, depth)
	case reflect.Map:
		return appendJSONMap(dst, v, depth)
	case reflect.Struct:
		return appendJSONStruct(dst, v, depth)
	}
	return dst, errUnsupported // channels, funcs, complex numbers
}

// maxJSONDepth is where encoding/json starts suspecting a cycle.
const maxJSONDepth = 1000

var errUnsupported = errors.New("tower: not encodable by the bounded summary encoder")

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	numberType        = reflect.TypeFor[json.Number]()
)

// delegated reports whether values of t render through their own methods
// (or json.Number's rule), which only json.Marshal applies exactly.
func delegated(t reflect.Type) bool {
	return t == numberType || t.Implements(marshalerType) || t.Implements(textMarshalerType)
}

// marshalAppend renders v with json.Marshal: in full, but only v. An
// addressable v is passed by pointer, so that its pointer-receiver methods
// apply as they would inside the whole value.
func marshalAppend(dst []byte, v reflect.Value) ([]byte, error) {
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func isByteSlice(t reflect.Type) bool {
	if t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	p := reflect.PointerTo(t.Elem())
	return !p.Implements(marshalerType) && !p.Implements(textMarshalerType)
}

// appendBase64 writes b as json.Marshal writes a []byte, encoding only as
// much as the summary can show.
func appendBase64(dst []byte, b []byte) []byte {
	if n := renderCap / 4 * 3; len(b) > n {
		b = b[:n] // whole 3-byte groups, so the encoded prefix is exact
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func appendJSONArray(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	dst = append(dst, '[')
	for i := range v.Len() {
		if len(dst) >= renderCap {
			return dst, nil
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendJSON(dst, v.Index(i), depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendJSONMap writes a map with string keys, sorted as encoding/json
// sorts them; every key is read (the order needs them all), values only
// until the summary is full.
func appendJSONMap(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	if v.Type().Key().Kind() != reflect.String {
		return marshalAppend(dst, v)
	}
	if v.IsNil() {
		return append(dst, "null"...), nil
	}
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	dst = append(dst, '{')
	for i, k := range keys {
		if len(dst) >= renderCap {
			return dst, nil
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k.String())
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSON(dst, v.MapIndex(k), depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendJSONStruct(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	fields, ok := structFields(v.Type())
	if !ok {
		return marshalAppend(dst, v)
	}
	dst = append(dst, '{')
	n := 0
	for _, f := range fields {
		if len(dst) >= renderCap {
			return dst, nil
		}
		fv := v.Field(f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, f.key...)
		var err error
		if dst, err = appendJSON(dst, fv, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// jsonField is one field of a plain struct as encoding/json writes it.
type jsonField struct {
	index     int
	key       string // the quoted name and ':'
	omitEmpty bool
}

// plainStructs caches structFields by type.
var plainStructs sync.Map // reflect.Type → []jsonField, or nil if not plain

// structFields returns t's fields in encoding order when t is a plain
// struct: no embedded fields, no name used twice, no ",string" or
// ",omitzero" option. Other structs go to json.Marshal, whose rules for
// them are too subtle to repeat.
func structFields(t reflect.Type) ([]jsonField, bool) {
	if cached, ok := plainStructs.Load(t); ok {
		fields, _ := cached.([]jsonField)
		return fields, fields != nil
	}
	fields := plainFields(t)
	if fields == nil {
		plainStructs.Store(t, nil)
		return nil, false
	}
	plainStructs.Store(t, fields)
	return fields, true
}

func plainFields(t reflect.Type) []jsonField {
	fields := make([]jsonField, 0, t.NumField())
	seen := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		f := jsonField{index: i}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				f.omitEmpty = true
			case "string", "omitzero":
				return nil
			}
		}
		if !validTagName(name) {
			name = sf.Name
		}
		if seen[name] {
			return nil
		}
		seen[name] = true
		f.key = string(appendJSONString(nil, name)) + ":"
		fields = append(fields, f)
	}
	return fields
}

// validTagName is encoding/json's isValidTag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !isLetterOrDigit(c):
			return false
		}
	}
	return true
}

// isEmptyValue is encoding/json's test for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// appendJSONFloat is encoding/json's float encoding.
func appendJSONFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, errUnsupported
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// e-09 becomes e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// appendJSONString is encoding/json's string encoding with HTML escaping,
// stopped soon after renderCap.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		if len(dst) >= renderCap {
			return dst
		}
		if b := s[i]; b < utf8.RuneSelf {
			switch {
			case b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&':
				dst = append(dst, b)
			case b == '"' || b == '\\':
				dst = append(dst, '\\', b)
			case b == '\b':
				dst = append(dst, `\b`...)
			case b == '\f':
				dst = append(dst, `\f`...)
			case b == '\n':
				dst = append(dst, `\n`...)
			case b == '\r':
				dst = append(dst, `\r`...)
			case b == '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

func isLetterOrDigit(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }
