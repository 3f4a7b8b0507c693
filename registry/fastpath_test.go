package registry

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// The fast path is only worth having if it is indistinguishable from
// jsonschema: these tests validate the same parameters both ways.

func TestFastPathChoice(t *testing.T) {
	m, err := Load("testdata/security_hardened/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for key, fast := range map[string]bool{
		"api:write_file":        true,
		"api:delete_resource":   true,
		"api:send_notification": false, // format: email
	} {
		tool, ok := m.Resolve(key)
		if !ok {
			t.Fatalf("no tool %s", key)
		}
		if got := tool.schema.fast != nil; got != fast {
			t.Errorf("%s: fast path %v, want %v", key, got, fast)
		}
	}
	for schema, fast := range map[string]bool{
		`{type: object, properties: {a: {type: [string, "null"], maxLength: 3}}, additionalProperties: false}`: true,
		`{$schema: "http://json-schema.org/draft-07/schema#", required: [a], title: t, $comment: c}`:           true,
		`{properties: {a: false, b: true, c: {items: {enum: [1, [2]]}, maxItems: 2}}}`:                         true,
		`{properties: {n: {minimum: 1, exclusiveMaximum: 2.5, multipleOf: 0.5, const: 2}}}`:                    true,
		`{$schema: "https://json-schema.org/draft/2020-12/schema"}`:                                            false,
		`{properties: {a: {format: email}}}`:                                                                   false,
		`{properties: {a: {$ref: "#/definitions/d"}}, definitions: {d: {type: string}}}`:                       false,
		`{additionalProperties: {type: string}}`:                                                               false,
		`{properties: {a: {items: [{type: string}]}}}`:                                                         false,
		`{properties: {a: {anyOf: [{type: string}]}}}`:                                                         false,
		`{properties: {a: {uniqueItems: true}}}`:                                                               false,
		`{patternProperties: {"^x": {type: string}}}`:                                                          false,
		`{properties: {a: {x-unknown: 1}}}`:                                                                    false,
		`{properties: {a: {$schema: "http://json-schema.org/draft-07/schema#"}}}`:                              false,
	} {
		tool, err := parseSchema(schema)
		if err != nil {
			t.Fatalf("%s: %v", schema, err)
		}
		if got := tool.schema.fast != nil; got != fast {
			t.Errorf("%s: fast path %v, want %v", schema, got, fast)
		}
	}
}

// Parameters outside the Params model (Go numbers, repeated keys) are left
// to jsonschema, so the answers still agree.
func TestFastPathFallsBack(t *testing.T) {
	tool, err := parseSchema(`{properties: {a: {type: integer, maximum: 3}, b: {enum: [[1]]}}, additionalProperties: false}`)
	if err != nil {
		t.Fatal(err)
	}
	var wide tollgate.Params // past the quadratic duplicate check
	for i := range 40 {
		wide = append(wide, tollgate.Field{Key: fmt.Sprint("k", i), Value: nil})
	}
	wide = append(wide, tollgate.Field{Key: "a", Value: json.Number("9")}, tollgate.Field{Key: "a", Value: json.Number("1")})
	for _, p := range []tollgate.Params{
		wide,
		{{Key: "a", Value: 5}},
		{{Key: "a", Value: 5.0}},
		{{Key: "a", Value: json.Number("9")}, {Key: "a", Value: json.Number("1")}},
		{{Key: "z", Value: 1}, {Key: "z", Value: 2}},
		{{Key: "b", Value: []any{int8(1)}}},
	} {
		if _, ok := tool.schema.fast.run(tool.schema, p); ok {
			t.Errorf("%v: fast path did not fall back", p)
		}
		compareWithJSONSchema(t, tool, p)
	}
}

// TestFastPathMatchesJSONSchemaRandom runs the fuzz target's generator over
// a fixed set of random inputs on every test run.
func TestFastPathMatchesJSONSchemaRandom(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		data := make([]byte, 64+rng.IntN(512))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		checkGenerated(t, data)
	}
}

// FuzzFastPathMatchesJSONSchema validates generated parameters against
// schemas from the fast path's subset, both ways. An empty schema means
// "generate one from data too"; the seeds include the compat fixtures'
// schemas.
func FuzzFastPathMatchesJSONSchema(f *testing.F) {
	manifests, _ := filepath.Glob("testdata/*/manifest.yaml")
	for _, path := range manifests {
		m, err := Load(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, key := range m.Tools() {
			if tool, ok := m.Resolve(key); ok && tool.schema != nil {
				js, err := json.Marshal(tool.schema.doc)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(string(js), []byte(key))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		data := make([]byte, 256)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		f.Add("", data)
	}
	f.Fuzz(func(t *testing.T, schema string, data []byte) {
		if schema == "" {
			checkGenerated(t, data)
			return
		}
		tool, err := parseSchema(schema)
		if err != nil || tool == nil || tool.schema == nil || tool.schema.fast == nil {
			return
		}
		g := &gen{data: data}
		for range 8 {
			compareWithJSONSchema(t, tool, g.params(tool.schema.doc))
		}
	})
}

// checkGenerated builds a schema from data, which must take the fast path,
// and compares both paths on parameters built from the rest of data.
func checkGenerated(t *testing.T, data []byte) {
	t.Helper()
	g := &gen{data: data}
	doc := g.rootSchema()
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tool, err := parseSchema(string(js))
	if err != nil {
		t.Fatalf("generated schema %s: %v", js, err)
	}
	if tool.schema.fast == nil {
		t.Fatalf("generated schema %s does not take the fast path", js)
	}
	for range 12 {
		compareWithJSONSchema(t, tool, g.params(tool.schema.doc))
	}
}

func parseSchema(schema string) (*Tool, error) {
	m, err := Parse("fuzz.yaml", []byte("tools:\n  t:\n    params_schema: "+schema+"\n"))
	if err != nil {
		return nil, err
	}
	tool, _ := m.Resolve("t")
	return tool, nil
}

func compareWithJSONSchema(t *testing.T, tool *Tool, p tollgate.Params) {
	t.Helper()
	got := tool.ValidateParams(p)
	want := tool.schema.validateJSONSchema(p)
	if !slices.Equal(got, want) {
		js, _ := json.Marshal(tool.schema.doc)
		t.Fatalf("schema %s\nparams %s (%#v)\n fast path   %q\n jsonschema  %q", js, fmt.Sprint(p), p, got, want)
	}
}

// gen turns fuzz bytes into schemas and values; exhausted input reads as
// zeros, so every input is usable.
type gen struct {
	data     []byte
	i        int
	inSchema bool // values for a schema: no Go-only values
}

func (g *gen) n(k int) int {
	if g.i >= len(g.data) {
		return 0
	}
	b := g.data[g.i]
	g.i++
	return int(b) % k
}

func (g *gen) chance(percent int) bool { return g.n(100) < percent }

func pick[T any](g *gen, xs ...T) T { return xs[g.n(len(xs))] }

var (
	genTypes   = []string{"string", "integer", "number", "boolean", "object", "array", "null"}
	genKeys    = []string{"a", "b", "c", "x/y", "t~1", "é"}
	genStrings = []string{"", "a", "ab", "abc", "/safe/x", "/unsafe", "é", "日本語", "a-b-c", "A1", "x\ny", "bb", "1", "ab\u0000", "\xff\xfe"}
	// genNumbers are boundary spellings: equal values written differently,
	// integers beyond int64 and float64, tiny and huge exponents.
	genNumbers = []string{"0", "-0", "1", "1.0", "1e2", "1E2", "100", "1.0e2", "-1", "0.5", "2.5", "3", "5.0",
		"9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"99999999999999999999999", "1e400", "1e-400", "0.1", "0.3", "0.30000000000000004", "511", "512",
		"255", "-1e2", "1.5e1", "10", "-0.0", "2", "0.25"}
	// genBounds are written the way YAML 1.1 reads them as numbers.
	genBounds = []string{"0", "1", "-1", "1.0", "0.5", "2.5", "3", "10", "100", "255", "511", "1.0e+2",
		"9007199254740993", "99999999999999999999999", "0.1", "2", "-0.5", "5.0"}
	genPatterns = []string{"^a", "b$", "^[a-z]+$", "é", "^/safe/", "^.{2,3}$", `\d`, "^[a-zA-Z0-9-]+$", ""}
)

func (g *gen) rootSchema() tollgate.Params {
	g.inSchema = true
	defer func() { g.inSchema = false }()
	s := g.schema(2).(tollgate.Params)
	if _, typed := s.Get("type"); !typed && g.chance(50) {
		s = append(tollgate.Params{{Key: "type", Value: "object"}}, s...)
	}
	if _, ok := s.Get("properties"); !ok && g.chance(30) {
		s = append(s, tollgate.Field{Key: "properties", Value: g.properties(2)})
	}
	if len(s) == 0 {
		s = tollgate.Params{{Key: "required", Value: []any{"a"}}}
	}
	return s
}

// schema builds a schema from the fast path's subset.
func (g *gen) schema(depth int) any {
	if depth < 2 && g.chance(5) {
		return g.chance(50)
	}
	var s tollgate.Params
	add := func(k string, v any) { s = append(s, tollgate.Field{Key: k, Value: v}) }
	var types []string
	switch g.n(4) {
	case 1:
		types = []string{pick(g, genTypes...)}
		add("type", types[0])
	case 2:
		a, b := pick(g, genTypes...), pick(g, genTypes...)
		types = []string{a}
		if b != a {
			types = append(types, b)
		}
		list := make([]any, len(types))
		for i, t := range types {
			list[i] = t
		}
		add("type", list)
	}
	has := func(t ...string) bool {
		if types == nil {
			return g.chance(40)
		}
		for _, x := range t {
			if slices.Contains(types, x) {
				return true
			}
		}
		return false
	}
	if has("string") {
		if g.chance(40) {
			add("minLength", json.Number(fmt.Sprint(g.n(4))))
		}
		if g.chance(40) {
			add("maxLength", json.Number(fmt.Sprint(g.n(5))))
		}
		if g.chance(40) {
			add("pattern", pick(g, genPatterns...))
		}
	}
	if has("integer", "number") {
		for _, kw := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
			if g.chance(30) {
				add(kw, json.Number(pick(g, genBounds...)))
			}
		}
		if g.chance(20) {
			add("multipleOf", json.Number(pick(g, "1", "2", "0.5", "0.1", "3", "1.0e+2", "0.25", "9007199254740993")))
		}
	}
	if has("array") && depth > 0 {
		if g.chance(60) {
			add("items", g.schema(depth-1))
		}
		if g.chance(30) {
			add("minItems", json.Number(fmt.Sprint(g.n(3))))
		}
		if g.chance(30) {
			add("maxItems", json.Number(fmt.Sprint(g.n(4))))
		}
	}
	if has("object") && depth > 0 {
		props := g.properties(depth - 1)
		if len(props) > 0 {
			add("properties", props)
		}
		if g.chance(40) {
			var req []any
			for _, k := range genKeys {
				if g.chance(30) {
					req = append(req, k)
				}
			}
			if req != nil {
				add("required", req)
			}
		}
		if g.chance(40) {
			add("additionalProperties", g.chance(30))
		}
	}
	if g.chance(10) {
		var enum []any
		for range 1 + g.n(3) {
			enum = append(enum, g.value(1))
		}
		add("enum", dedupe(enum))
	}
	if g.chance(4) {
		add("const", g.value(1))
	}
	if g.chance(10) {
		add(pick(g, "title", "description", "$comment"), "note")
	}
	if g.chance(5) {
		add(pick(g, "default", "examples"), []any{g.value(1)})
	}
	return s
}

// dedupe drops repeated enum values (the metaschema wants them unique).
func dedupe(vs []any) []any {
	var out []any
	for _, v := range vs {
		dup := false
		for _, o := range out {
			if eq, _ := jsonEqual(tollgate.Plain(v), tollgate.Plain(o)); eq {
				dup = true
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

func (g *gen) properties(depth int) tollgate.Params {
	var props tollgate.Params
	for _, k := range genKeys {
		if g.chance(35) {
			props = append(props, tollgate.Field{Key: k, Value: g.schema(depth)})
		}
	}
	return props
}

// params builds an object guided by the schema: mostly its own property
// names and values of the types it asks for, so that deep keywords run.
func (g *gen) params(schema any) tollgate.Params {
	p, ok := g.valueFor(schema, 3).(tollgate.Params)
	if !ok {
		return g.object(2, nil)
	}
	return p
}

func (g *gen) valueFor(schema any, depth int) any {
	s, _ := schema.(tollgate.Params)
	if s == nil || depth == 0 || g.chance(15) {
		return g.value(depth)
	}
	if e, ok := s.Get("enum"); ok && g.chance(40) {
		return pick(g, e.([]any)...)
	}
	if c, ok := s.Get("const"); ok && g.chance(40) {
		return c
	}
	t := pick(g, genTypes...)
	switch tv, _ := s.Get("type"); tv := tv.(type) {
	case string:
		t = tv
	case []any:
		t = pick(g, tv...).(string)
	}
	switch t {
	case "object":
		props, _ := s.Get("properties")
		p, _ := props.(tollgate.Params)
		return g.object(depth, p)
	case "array":
		items, _ := s.Get("items")
		arr := []any{}
		for range g.n(5) {
			arr = append(arr, g.valueFor(items, depth-1))
		}
		return arr
	}
	return g.scalar(t)
}

func (g *gen) object(depth int, props tollgate.Params) tollgate.Params {
	var obj tollgate.Params
	for _, k := range append(genKeys, "z") {
		if !g.chance(45) {
			continue
		}
		sub, _ := props.Get(k)
		obj = append(obj, tollgate.Field{Key: k, Value: g.valueFor(sub, depth-1)})
	}
	rand.New(rand.NewPCG(uint64(g.n(256)), 0)).Shuffle(len(obj), func(i, j int) { obj[i], obj[j] = obj[j], obj[i] })
	if len(obj) > 0 && !g.inSchema && g.chance(3) { // outside the model: a repeated key
		obj = append(obj, tollgate.Field{Key: obj[0].Key, Value: g.value(1)})
	}
	return obj
}

func (g *gen) scalar(t string) any {
	switch t {
	case "null":
		return nil
	case "boolean":
		return g.chance(50)
	case "string":
		return pick(g, genStrings...)
	case "integer":
		if !g.inSchema && g.chance(2) { // outside the model: a Go number
			return pick[any](g, 7, 2.5, int64(-3))
		}
		return json.Number(pick(g, "0", "-0", "1", "3", "100", "512", "-1", "9007199254740993", "99999999999999999999999", "5.0", "1e2"))
	}
	return json.Number(pick(g, genNumbers...))
}

func (g *gen) value(depth int) any {
	k := g.n(7)
	if depth <= 0 && k >= 5 {
		k = 2
	}
	switch k {
	case 5:
		arr := []any{}
		for range g.n(4) {
			arr = append(arr, g.value(depth-1))
		}
		return arr
	case 6:
		return g.object(depth, nil)
	}
	return g.scalar([]string{"string", "integer", "number", "boolean", "null"}[k])
}
