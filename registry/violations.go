package registry

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// printer renders jsonschema's messages for keywords Tollgate did not have.
var printer = message.NewPrinter(language.English)

// topLevel recycles the map that holds the top level of the parameters
// while they are validated (jsonschema wants map[string]any); validation is
// on every call's path.
var topLevel = sync.Pool{New: func() any { return make(map[string]any, 8) }}

// validate checks params. Violations come in document order of the
// parameters, an object's own errors before its members'.
func (s *compiledSchema) validate(params tollgate.Params) []tollgate.Violation {
	if s.fast != nil {
		if v, ok := s.fast.run(s, params); ok {
			return v
		}
	}
	return s.validateJSONSchema(params)
}

// validateJSONSchema validates with jsonschema, which understands every
// keyword.
func (s *compiledSchema) validateJSONSchema(params tollgate.Params) []tollgate.Violation {
	obj := topLevel.Get().(map[string]any)
	defer func() {
		clear(obj)
		topLevel.Put(obj)
	}()
	for _, f := range params {
		obj[f.Key] = tollgate.Plain(f.Value)
	}
	err := s.sch.Validate(obj)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok { // not returned by jsonschema/v6 today; fail closed if it ever is
		return []tollgate.Violation{{Field: "params", Description: "params: " + err.Error()}}
	}
	return violations(s.collect(nil, ve, params))
}

// violations puts findings in document order of the parameters; findings
// on the same value keep the order in which their keywords were checked.
func violations(found []finding) []tollgate.Violation {
	if len(found) == 0 {
		return nil
	}
	slices.SortStableFunc(found, func(a, b finding) int { return slices.Compare(a.order, b.order) })
	out := make([]tollgate.Violation, len(found))
	for i, f := range found {
		out[i] = f.Violation
	}
	return out
}

// finding is a violation with its position in the parameters.
type finding struct {
	tollgate.Violation
	order []int
}

// collect flattens a jsonschema error tree into one finding per failed
// keyword. Wrappers ($ref, allOf, groups) are looked through; anyOf and
// oneOf are one finding each, since no single branch is "the" error.
func (s *compiledSchema) collect(out []finding, ve *jsonschema.ValidationError, params tollgate.Params) []finding {
	switch k := ve.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, c := range ve.Causes {
			out = s.collect(out, c, params)
		}
		return out
	case *kind.Required:
		// One per key, in the schema's order, as Tollgate reports them.
		path, order, _ := instance(params, ve.InstanceLocation)
		for _, key := range k.Missing {
			out = append(out, finding{tollgate.Violation{Field: field(path + "." + key), Description: path + ": missing required key '" + key + "'"}, order})
		}
		return out
	}
	path, order, value := instance(params, ve.InstanceLocation)
	return append(out, finding{tollgate.Violation{Field: field(path), Description: path + ": " + s.message(ve, value, params)}, order})
}

// field is a violation's path into the params object, as a BadRequest field
// violation names it ("ticket_id", "items[1].name"); the description keeps
// Tollgate's "params."-rooted wording. The whole object is "params".
func field(path string) string {
	if rest, ok := strings.CutPrefix(path, "params."); ok {
		return rest
	}
	return path
}

// message words one failed keyword. Keywords Tollgate had keep its wording;
// exclusive bounds are worded like its inclusive ones.
func (s *compiledSchema) message(ve *jsonschema.ValidationError, value any, params tollgate.Params) string {
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		return fmt.Sprintf("expected type %s, got %s", s.types(ve, k.Want), pyType(value))
	case *kind.Enum:
		want := s.keyword(ve, "enum")
		if want == nil {
			want = k.Want
		}
		return fmt.Sprintf("value %s not in enum %s", pycompat.Repr(value), pycompat.Repr(want))
	case *kind.MinLength:
		return fmt.Sprintf("length %d < minLength %d", k.Got, k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("length %d > maxLength %d", k.Got, k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("value does not match pattern '%s'", k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("value %s < minimum %s", pyStr(value), s.bound(ve, "minimum", k.Want))
	case *kind.Maximum:
		return fmt.Sprintf("value %s > maximum %s", pyStr(value), s.bound(ve, "maximum", k.Want))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("value %s <= exclusiveMinimum %s", pyStr(value), s.bound(ve, "exclusiveMinimum", k.Want))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("value %s >= exclusiveMaximum %s", pyStr(value), s.bound(ve, "exclusiveMaximum", k.Want))
	case *kind.AdditionalProperties:
		return fmt.Sprintf("additional properties %s not allowed", quoteInOrder(k.Properties, value))
	case *kind.AnyOf, *kind.OneOf:
		if len(ve.Causes) == 0 {
			break
		}
		var branches []string
		for _, c := range ve.Causes {
			for _, f := range s.collect(nil, c, params) {
				branches = append(branches, f.Description)
			}
		}
		return fmt.Sprintf("%s (%s)", ve.ErrorKind.LocalizedString(printer), strings.Join(branches, " | "))
	}
	return ve.ErrorKind.LocalizedString(printer)
}

// keyword returns the value of kw in the schema object that failed, as
// written in the manifest, or nil when it cannot be found (a subschema
// with its own $id).
func (s *compiledSchema) keyword(ve *jsonschema.ValidationError, kw string) any {
	rest, ok := strings.CutPrefix(ve.SchemaURL, schemaURL+"#")
	if !ok {
		return nil
	}
	v := s.doc
	for _, tok := range fragment("#" + rest) {
		switch c := v.(type) {
		case tollgate.Params:
			v, _ = c.Get(tok)
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	obj, _ := v.(tollgate.Params)
	kv, _ := obj.Get(kw)
	return kv
}

// types quotes the expected types in the schema's order: 'integer', or
// 'string' or 'null' for a list.
func (s *compiledSchema) types(ve *jsonschema.ValidationError, fallback []string) string {
	want := fallback
	switch t := s.keyword(ve, "type").(type) {
	case string:
		want = []string{t}
	case []any:
		want = nil
		for _, e := range t {
			want = append(want, pyStr(e))
		}
	}
	q := make([]string, len(want))
	for i, w := range want {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " or ")
}

// bound is a minimum or maximum as written (Python str: 1, 1.5, 1.0).
func (s *compiledSchema) bound(ve *jsonschema.ValidationError, kw string, fallback *big.Rat) string {
	if n, ok := s.keyword(ve, kw).(json.Number); ok {
		return pyStr(n)
	}
	if fallback.IsInt() {
		return fallback.Num().String()
	}
	f, _ := fallback.Float64()
	return pycompat.FormatFloat(f)
}

// instance walks params to a jsonschema instance location and returns its
// display path (params.items[0].name), its position for sorting and the
// value there.
func instance(params tollgate.Params, loc []string) (string, []int, any) {
	var b strings.Builder
	b.WriteString("params")
	order := make([]int, len(loc))
	var v any = params
	for i, tok := range loc {
		order[i] = math.MaxInt
		switch c := v.(type) {
		case tollgate.Params:
			b.WriteString("." + tok)
			v = nil
			if j := slices.IndexFunc(c, func(f tollgate.Field) bool { return f.Key == tok }); j >= 0 {
				order[i], v = j, c[j].Value
			}
		case []any:
			b.WriteString("[" + tok + "]")
			v = nil
			if j, err := strconv.Atoi(tok); err == nil && j >= 0 && j < len(c) {
				order[i], v = j, c[j]
			}
		default:
			b.WriteString("." + tok)
			v = nil
		}
	}
	return b.String(), order, v
}

// quoteInOrder quotes names in the order they appear in obj (jsonschema
// reports them in map order, which varies from run to run).
func quoteInOrder(names []string, obj any) string {
	var ordered []string
	if p, ok := obj.(tollgate.Params); ok {
		for _, f := range p {
			if slices.Contains(names, f.Key) {
				ordered = append(ordered, f.Key)
			}
		}
	}
	if len(ordered) != len(names) {
		ordered = slices.Sorted(slices.Values(names))
	}
	q := make([]string, len(ordered))
	for i, n := range ordered {
		q[i] = pycompat.Repr(n)
	}
	return strings.Join(q, ", ")
}

// pyType is the Python type name Tollgate printed for a value.
func pyType(v any) string {
	switch t := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if pycompat.IsFloat(t) {
			return "float"
		}
		return "int"
	case float32, float64:
		return "float"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "int"
	case []any:
		return "list"
	case tollgate.Params:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
