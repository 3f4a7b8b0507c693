package registry

import (
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// fastSchema validates a params_schema that uses only simple keywords
// without jsonschema's general machinery, which costs microseconds and
// dozens of allocations per call and recurses deeply. It walks the
// tollgate.Params value directly and only builds jsonschema errors when a
// keyword fails, so the messages come from the same code as the general
// path's. Its results must equal the general path's for every input
// (FuzzFastPathMatchesJSONSchema checks this): keyword order, numeric
// exactness and the compiled values (regexps, bounds) are jsonschema's own.
type fastSchema struct {
	sch    *jsonschema.Schema // the same (sub)schema, compiled by jsonschema
	types  typeSet            // 0: any type
	strict bool               // "integer" without "number": 5.0 is refused (strictIntegers)
	props  map[string]*fastSchema
	closed bool // additionalProperties: false
	object bool // has object keywords: duplicate keys would matter
	items  *fastSchema

	minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf bound
}

// fastKeywords are the keywords the fast path implements (or, for
// annotations, may ignore). Any other keyword sends the whole schema to
// jsonschema.
var fastKeywords = map[string]bool{
	"type": true, "enum": true, "const": true,
	"minLength": true, "maxLength": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"required": true, "properties": true, "additionalProperties": true,
	"items": true, "minItems": true, "maxItems": true,
	"title": true, "description": true, "default": true, "examples": true, "$comment": true,
}

// compileFast returns the fast validator for a compiled schema, or nil when
// the schema uses anything beyond fastKeywords. doc is the schema as
// written; sch is jsonschema's compilation of it.
func compileFast(doc any, sch *jsonschema.Schema) *fastSchema {
	obj, ok := doc.(tollgate.Params)
	if !ok || sch.DraftVersion != 7 {
		return nil
	}
	if v, ok := obj.Get("$schema"); ok {
		// Only the default draft; Without copies, so doc is not changed.
		if v != "http://json-schema.org/draft-07/schema#" && v != "http://json-schema.org/draft-07/schema" {
			return nil
		}
		obj = obj.Without("$schema")
	}
	return fastNode(obj, sch)
}

func fastNode(doc any, sch *jsonschema.Schema) *fastSchema {
	if b, ok := doc.(bool); ok {
		if sch.Bool == nil || *sch.Bool != b {
			return nil
		}
		return &fastSchema{sch: sch}
	}
	obj, ok := doc.(tollgate.Params)
	if !ok {
		return nil
	}
	f := &fastSchema{sch: sch}
	for _, kw := range obj {
		if !fastKeywords[kw.Key] {
			return nil
		}
	}
	if sch.Bool != nil { // jsonschema compiles {} to true
		return f
	}
	for _, kw := range obj {
		switch kw.Key {
		case "properties":
			props, ok := kw.Value.(tollgate.Params)
			if !ok || len(props) != len(sch.Properties) {
				return nil
			}
			f.props = make(map[string]*fastSchema, len(props))
			for _, p := range props {
				sub, ok := sch.Properties[p.Key]
				if !ok {
					return nil
				}
				if f.props[p.Key] = fastNode(p.Value, sub); f.props[p.Key] == nil {
					return nil
				}
			}
		case "additionalProperties":
			b, ok := kw.Value.(bool)
			if !ok {
				return nil
			}
			f.closed = !b
		case "items":
			sub, ok := sch.Items.(*jsonschema.Schema)
			if !ok {
				return nil
			}
			if f.items = fastNode(kw.Value, sub); f.items == nil {
				return nil
			}
		}
	}
	f.object = f.props != nil || f.closed || len(sch.Required) > 0
	if sch.Types != nil {
		for _, t := range sch.Types.ToStrings() {
			f.types |= typeNamed(t)
		}
		f.strict = f.types&typeInteger != 0 && f.types&typeNumber == 0
	}
	f.minimum = newBound(sch.Minimum)
	f.maximum = newBound(sch.Maximum)
	f.exclusiveMinimum = newBound(sch.ExclusiveMinimum)
	f.exclusiveMaximum = newBound(sch.ExclusiveMaximum)
	f.multipleOf = newBound(sch.MultipleOf)
	return f
}

// typeSet is a set of JSON Schema types.
type typeSet uint8

// The bits follow jsonTypes.
const (
	typeString typeSet = 1 << iota
	typeInteger
	typeNumber
	typeBoolean
	typeObject
	typeArray
	typeNull
)

func typeNamed(name string) typeSet {
	if i := slices.Index(jsonTypes, name); i >= 0 {
		return typeSet(1) << i
	}
	return 0
}

// typeOf is the JSON type of a value of the Params model; ok is false for
// any other Go value, which the fast path leaves to jsonschema.
func typeOf(v any) (typeSet, bool) {
	switch v.(type) {
	case nil:
		return typeNull, true
	case bool:
		return typeBoolean, true
	case json.Number:
		return typeNumber, true
	case string:
		return typeString, true
	case []any:
		return typeArray, true
	case tollgate.Params:
		return typeObject, true
	}
	return 0, false
}

// bound is a numeric keyword; isInt is set when it is an integer that fits
// int64, so that integer values compare without big.Rat.
type bound struct {
	rat   *big.Rat
	i     int64
	isInt bool
}

func newBound(r *big.Rat) bound {
	if r == nil {
		return bound{}
	}
	b := bound{rat: r}
	if r.IsInt() && r.Num().IsInt64() {
		b.i, b.isInt = r.Num().Int64(), true
	}
	return b
}

// number is a json.Number being validated: exact int64 when its text is a
// plain JSON integer that fits, else a big.Rat parsed on first use, as
// jsonschema parses it.
type number struct {
	text  json.Number
	i     int64
	isInt bool
	rat   *big.Rat
}

func newNumber(n json.Number) number {
	i, ok := plainInt(string(n))
	return number{text: n, i: i, isInt: ok}
}

// plainInt parses JSON integer syntax (-?(0|[1-9][0-9]*)) that fits int64.
func plainInt(s string) (int64, bool) {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if d == "" || len(d) > 1 && d[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// ratio returns the number as jsonschema reads it; ok is false when big.Rat
// cannot read the text (a json.Number built in Go, not decoded).
func (n *number) ratio() (*big.Rat, bool) {
	if n.rat == nil {
		r, ok := new(big.Rat).SetString(string(n.text))
		if !ok {
			return nil, false
		}
		n.rat = r
	}
	return n.rat, true
}

// cmp compares the number with b; ok is false when the number is unreadable.
func (n *number) cmp(b bound) (int, bool) {
	if n.isInt && b.isInt {
		switch {
		case n.i < b.i:
			return -1, true
		case n.i > b.i:
			return 1, true
		}
		return 0, true
	}
	r, ok := n.ratio()
	if !ok {
		return 0, false
	}
	return r.Cmp(b.rat), true
}

// isInteger is jsonschema's test for type "integer" (5.0 passes it; the
// strict-integer rule refuses it later).
func (n *number) isInteger() bool {
	if n.isInt {
		return true
	}
	r, ok := n.ratio()
	return ok && r.IsInt()
}

// fastRun is one validation: the parameters (for locating values in
// messages), the findings so far, and whether the fast path must give up.
type fastRun struct {
	s        *compiledSchema
	params   tollgate.Params
	found    []finding
	fallback bool
}

// step is one token of the instance location of the value being
// validated, turned into jsonschema's []string only when a keyword fails.
// The location is passed down (not kept in fastRun) so that it stays on the
// stack: the valid path does not allocate.
type step struct {
	key string
	idx int // -1 for an object member
}

func tokens(at []step) []string {
	out := make([]string, len(at))
	for i, s := range at {
		out[i] = s.key
		if s.idx >= 0 {
			out[i] = strconv.Itoa(s.idx)
		}
	}
	return out
}

// fail records a failed keyword as jsonschema would report it.
func (r *fastRun) fail(f *fastSchema, at []step, k jsonschema.ErrorKind) {
	ve := &jsonschema.ValidationError{SchemaURL: f.sch.Location, InstanceLocation: tokens(at), ErrorKind: k}
	r.found = r.s.collect(r.found, ve, r.params)
}

// run validates the parameters. They are an object, so validate's type
// switch is done here: passing Params as an any would allocate.
func (f *fastSchema) run(s *compiledSchema, params tollgate.Params) ([]tollgate.Violation, bool) {
	var buf [8]step
	at := buf[:0]
	r := fastRun{s: s, params: params}
	if f.types != 0 && f.types&typeObject == 0 {
		r.fail(f, at, &kind.Type{Got: "object", Want: f.sch.Types.ToStrings()})
	} else if (f.sch.Const == nil && f.sch.Enum == nil) || r.enumConst(f, params, at) {
		r.object(f, params, at)
	}
	if r.fallback {
		return nil, false
	}
	return violations(r.found), true
}

// validate follows jsonschema's order of keywords (validator.validate):
// false schema, type, const and enum stop at the first failure; then the
// keywords of the value's type; then the strict-integer rule.
func (r *fastRun) validate(f *fastSchema, v any, at []step) {
	if f.sch.Bool != nil {
		if !*f.sch.Bool {
			r.fail(f, at, &kind.FalseSchema{})
		}
		return
	}
	t, ok := typeOf(v)
	if !ok {
		r.fallback = true
		return
	}
	var num number
	if t == typeNumber {
		num = newNumber(v.(json.Number))
		if !num.isInt {
			if _, ok := num.ratio(); !ok {
				r.fallback = true
				return
			}
		}
	}
	if f.types != 0 && f.types&t == 0 && (f.types&typeInteger == 0 || t != typeNumber || !num.isInteger()) {
		r.fail(f, at, &kind.Type{Got: typeName(t), Want: f.sch.Types.ToStrings()})
		return
	}
	if f.sch.Const != nil || f.sch.Enum != nil {
		if !r.enumConst(f, v, at) {
			return
		}
	}
	switch t {
	case typeObject:
		r.object(f, v.(tollgate.Params), at)
	case typeArray:
		r.array(f, v.([]any), at)
	case typeString:
		r.string(f, v.(string), at)
	case typeNumber:
		r.number(f, &num, at)
		if f.strict && pycompat.IsFloat(num.text) {
			r.fail(f, at, &kind.Type{Got: "number", Want: f.sch.Types.ToStrings()})
		}
	}
}

func typeName(t typeSet) string {
	switch t {
	case typeNull:
		return "null"
	case typeBoolean:
		return "boolean"
	case typeNumber:
		return "number"
	case typeString:
		return "string"
	case typeArray:
		return "array"
	}
	return "object"
}

// enumConst checks const, then enum; it reports whether validation of the
// value goes on.
func (r *fastRun) enumConst(f *fastSchema, v any, at []step) bool {
	plain := v
	if _, ok := v.(tollgate.Params); ok {
		plain = tollgate.Plain(v)
	} else if _, ok := v.([]any); ok {
		plain = tollgate.Plain(v)
	}
	if f.sch.Const != nil {
		eq, ok := jsonEqual(plain, *f.sch.Const)
		if !ok {
			r.fallback = true
			return false
		}
		if !eq {
			r.fail(f, at, &kind.Const{Got: plain, Want: *f.sch.Const})
			return false
		}
	}
	if f.sch.Enum != nil {
		for _, want := range f.sch.Enum.Values {
			eq, ok := jsonEqual(plain, want)
			if !ok {
				r.fallback = true
				return false
			}
			if eq {
				return true
			}
		}
		r.fail(f, at, &kind.Enum{Got: plain, Want: f.sch.Enum.Values})
		return false
	}
	return true
}

// jsonEqual is jsonschema's equality of plain JSON values: numbers by
// exact value, objects and arrays member by member. ok is false for a Go
// value outside the model.
func jsonEqual(a, b any) (eq, ok bool) {
	switch a := a.(type) {
	case nil:
		return b == nil, true
	case bool:
		bb, isBool := b.(bool)
		return isBool && a == bb, true
	case string:
		bs, isString := b.(string)
		return isString && a == bs, true
	case json.Number:
		bn, isNumber := b.(json.Number)
		if !isNumber {
			_, known := typeOf(b)
			_, isMap := b.(map[string]any)
			return false, known || isMap
		}
		if a == bn {
			return true, true
		}
		x, y := newNumber(a), newNumber(bn)
		if x.isInt && y.isInt {
			return x.i == y.i, true
		}
		xr, okx := x.ratio()
		yr, oky := y.ratio()
		return okx && oky && xr.Cmp(yr) == 0, true
	case []any:
		bs, isArray := b.([]any)
		if !isArray || len(a) != len(bs) {
			return false, true
		}
		for i := range a {
			if eq, ok := jsonEqual(a[i], bs[i]); !eq || !ok {
				return eq, ok
			}
		}
		return true, true
	case map[string]any:
		bm, isMap := b.(map[string]any)
		if !isMap || len(a) != len(bm) {
			return false, true
		}
		for k, av := range a {
			bv, found := bm[k]
			if !found {
				return false, true
			}
			if eq, ok := jsonEqual(av, bv); !eq || !ok {
				return eq, ok
			}
		}
		return true, true
	}
	return false, false
}

func (r *fastRun) object(f *fastSchema, obj tollgate.Params, at []step) {
	if !f.object {
		return
	}
	if hasDuplicateKeys(obj) {
		// jsonschema sees the last value of a repeated key; leave that
		// model-breaking input to it rather than imitate it.
		r.fallback = true
		return
	}
	var missing []string
	for _, key := range f.sch.Required {
		if _, ok := obj.Get(key); !ok {
			missing = append(missing, key)
		}
	}
	if missing != nil {
		r.fail(f, at, &kind.Required{Missing: missing})
	}
	var extra []string
	for _, m := range obj {
		if sub, ok := f.props[m.Key]; ok {
			r.validate(sub, m.Value, append(at, step{key: m.Key, idx: -1}))
			if r.fallback {
				return
			}
		} else if f.closed {
			extra = append(extra, m.Key)
		}
	}
	if extra != nil {
		r.fail(f, at, &kind.AdditionalProperties{Properties: extra})
	}
}

// hasDuplicateKeys reports whether obj repeats a key (possible only in
// Params built in Go; decoding refuses them).
func hasDuplicateKeys(obj tollgate.Params) bool {
	if len(obj) > 32 {
		seen := make(map[string]struct{}, len(obj))
		for _, m := range obj {
			if _, dup := seen[m.Key]; dup {
				return true
			}
			seen[m.Key] = struct{}{}
		}
		return false
	}
	for i := 1; i < len(obj); i++ {
		for j := range i {
			if obj[i].Key == obj[j].Key {
				return true
			}
		}
	}
	return false
}

func (r *fastRun) array(f *fastSchema, arr []any, at []step) {
	s := f.sch
	if s.MinItems != nil && len(arr) < *s.MinItems {
		r.fail(f, at, &kind.MinItems{Got: len(arr), Want: *s.MinItems})
	}
	if s.MaxItems != nil && len(arr) > *s.MaxItems {
		r.fail(f, at, &kind.MaxItems{Got: len(arr), Want: *s.MaxItems})
	}
	if f.items == nil {
		return
	}
	for i, e := range arr {
		r.validate(f.items, e, append(at, step{idx: i}))
		if r.fallback {
			return
		}
	}
}

func (r *fastRun) string(f *fastSchema, str string, at []step) {
	s := f.sch
	if s.MinLength != nil || s.MaxLength != nil {
		n := utf8.RuneCountInString(str)
		if s.MinLength != nil && n < *s.MinLength {
			r.fail(f, at, &kind.MinLength{Got: n, Want: *s.MinLength})
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			r.fail(f, at, &kind.MaxLength{Got: n, Want: *s.MaxLength})
		}
	}
	if s.Pattern != nil && !s.Pattern.MatchString(str) {
		r.fail(f, at, &kind.Pattern{Got: str, Want: s.Pattern.String()})
	}
}

func (r *fastRun) number(f *fastSchema, n *number, at []step) {
	check := func(b bound, failed func(c int) bool, k func(got *big.Rat) jsonschema.ErrorKind) {
		if b.rat == nil || r.fallback {
			return
		}
		c, ok := n.cmp(b)
		if !ok {
			r.fallback = true
			return
		}
		if failed(c) {
			got, _ := n.ratio()
			r.fail(f, at, k(got))
		}
	}
	s := f.sch
	check(f.minimum, func(c int) bool { return c < 0 }, func(got *big.Rat) jsonschema.ErrorKind {
		return &kind.Minimum{Got: got, Want: s.Minimum}
	})
	check(f.maximum, func(c int) bool { return c > 0 }, func(got *big.Rat) jsonschema.ErrorKind {
		return &kind.Maximum{Got: got, Want: s.Maximum}
	})
	check(f.exclusiveMinimum, func(c int) bool { return c <= 0 }, func(got *big.Rat) jsonschema.ErrorKind {
		return &kind.ExclusiveMinimum{Got: got, Want: s.ExclusiveMinimum}
	})
	check(f.exclusiveMaximum, func(c int) bool { return c >= 0 }, func(got *big.Rat) jsonschema.ErrorKind {
		return &kind.ExclusiveMaximum{Got: got, Want: s.ExclusiveMaximum}
	})
	if f.multipleOf.rat != nil && !r.fallback && !n.multipleOf(f.multipleOf) {
		got, _ := n.ratio()
		r.fail(f, at, &kind.MultipleOf{Got: got, Want: s.MultipleOf})
	}
}

// multipleOf is jsonschema's test: the quotient is an integer.
func (n *number) multipleOf(m bound) bool {
	if n.isInt && m.isInt && m.i > 0 {
		return n.i%m.i == 0
	}
	r, _ := n.ratio()
	return new(big.Rat).Quo(r, m.rat).IsInt()
}
