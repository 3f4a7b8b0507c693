package registry_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// checkViolations compares violations with want, each "field | description".
func checkViolations(t *testing.T, label string, got []tollgate.Violation, want ...string) {
	t.Helper()
	var g []string
	for _, v := range got {
		g = append(g, v.Field+" | "+v.Description)
	}
	if !slices.Equal(g, want) {
		t.Errorf("%s:\n got  %q\n want %q", label, g, want)
	}
}

// Schema validation in tests/test_security_hardening.py, with Tollgate's
// exact messages (§10).
func TestValidateParamsTollgate(t *testing.T) {
	const src = `tools:
  write:
    params_schema:
      type: object
      required: [path, content]
      properties:
        path: {type: string, pattern: "^/safe/", maxLength: 100}
        content: {type: string}
  count:
    params_schema:
      type: object
      properties:
        count: {type: integer, minimum: 1, maximum: 100}
  status:
    params_schema:
      type: object
      properties:
        status: {type: string, enum: [active, inactive]}
  plain:
    effect: read
`
	m := mustParse(t, src)
	tool := func(k string) interface {
		ValidateParams(tollgate.Params) []tollgate.Violation
	} {
		tl, ok := m.Resolve(k)
		if !ok {
			t.Fatalf("no tool %s", k)
		}
		return tl
	}
	tests := []struct {
		tool, params string
		want         []string
	}{
		{"plain", `{"x": 1}`, nil},
		{"write", `{}`, []string{"path | params: missing required key 'path'", "content | params: missing required key 'content'"}},
		{"write", `{"path": "/safe/file.txt", "content": "x"}`, nil},
		{"write", `{"path": "/unsafe/file.txt", "content": "x"}`, []string{"path | params.path: value does not match pattern '^/safe/'"}},
		{"write", `{"path": "/safe/` + strings.Repeat("a", 100) + `", "content": "x"}`, []string{"path | params.path: length 106 > maxLength 100"}},
		{"count", `{"count": "not_a_number"}`, []string{"count | params.count: expected type 'integer', got str"}},
		{"count", `{"count": 0}`, []string{"count | params.count: value 0 < minimum 1"}},
		{"count", `{"count": 101}`, []string{"count | params.count: value 101 > maximum 100"}},
		{"count", `{"count": 50}`, nil},
		{"count", `{"count": 5.0}`, []string{"count | params.count: expected type 'integer', got float"}},
		{"count", `{"count": true}`, []string{"count | params.count: expected type 'integer', got bool"}},
		{"count", `{"count": null}`, []string{"count | params.count: expected type 'integer', got NoneType"}},
		{"count", `{"count": [1]}`, []string{"count | params.count: expected type 'integer', got list"}},
		{"count", `{"count": {"a": 1}}`, []string{"count | params.count: expected type 'integer', got dict"}},
		{"status", `{"status": "deleted"}`, []string{"status | params.status: value 'deleted' not in enum ['active', 'inactive']"}},
		{"status", `{"status": "active"}`, nil},
	}
	for _, tt := range tests {
		got := tool(tt.tool).ValidateParams(params(t, tt.params))
		checkViolations(t, tt.tool+" "+tt.params, got, tt.want...)
	}
}

func TestValidateParamsBeyondTollgate(t *testing.T) {
	const src = `tools:
  t:
    params_schema:
      type: object
      additionalProperties: false
      definitions:
        item:
          type: object
          required: [name]
          properties:
            name: {type: string, minLength: 2}
      properties:
        note: {type: [string, "null"]}
        email: {type: string, format: email}
        items: {type: array, items: {$ref: "#/definitions/item"}}
        ratio: {type: number, minimum: 0.5, exclusiveMaximum: 1}
        choice: {anyOf: [{type: string}, {type: integer, maximum: 2}]}
        flag: {enum: [1, 2]}
`
	tool := mustTool(t, src, "t")
	tests := []struct {
		name, params string
		want         []string
	}{
		{"type list accepts null", `{"note": null}`, nil},
		{"type list accepts string", `{"note": "x"}`, nil},
		{"type list refuses int", `{"note": 3}`, []string{"note | params.note: expected type 'string' or 'null', got int"}},
		{"format email enforced", `{"email": "not-an-email"}`, []string{"email | params.email: 'not-an-email' is not valid email: missing @"}},
		{"format email accepted", `{"email": "a@example.com"}`, nil},
		{"additionalProperties false", `{"zeta": 1, "note": "x", "alpha": 2}`, []string{"params | params: additional properties 'zeta', 'alpha' not allowed"}},
		{"nested array paths", `{"items": [{"name": "ok"}, {"name": "x"}, {}]}`, []string{
			"items[1].name | params.items[1].name: length 1 < minLength 2",
			"items[2].name | params.items[2]: missing required key 'name'",
		}},
		{"float bound as written", `{"ratio": 0.25}`, []string{"ratio | params.ratio: value 0.25 < minimum 0.5"}},
		{"exclusive bound", `{"ratio": 1}`, []string{"ratio | params.ratio: value 1 >= exclusiveMaximum 1"}},
		{"anyOf lists the branches", `{"choice": 3}`, []string{"choice | params.choice: 'anyOf' failed (params.choice: expected type 'string', got int | params.choice: value 3 > maximum 2)"}},
		{"enum is strict", `{"flag": true}`, []string{"flag | params.flag: value True not in enum [1, 2]"}},
		{"enum compares numbers by value", `{"flag": 1.0}`, nil},
		{"document order", `{"email": "bad", "ratio": 0, "note": 1}`, []string{
			"email | params.email: 'bad' is not valid email: missing @",
			"ratio | params.ratio: value 0 < minimum 0.5",
			"note | params.note: expected type 'string' or 'null', got int",
		}},
	}
	for _, tt := range tests {
		// Run each case several times: jsonschema visits object members in
		// map order, and the result must not depend on it.
		for range 5 {
			checkViolations(t, tt.name, tool.ValidateParams(params(t, tt.params)), tt.want...)
		}
	}
}

// Parameters built in Go rather than decoded from JSON, and a subschema
// with its own $id (messages then fall back to jsonschema's values).
func TestValidateParamsGoValues(t *testing.T) {
	tool := mustTool(t, `tools:
  t:
    params_schema:
      properties:
        count: {type: integer}
        ratio: {$id: "http://example.com/ratio", minimum: 1.5, maximum: 3}
`, "t")
	tests := []struct {
		p    tollgate.Params
		want []string
	}{
		{tollgate.Params{{Key: "count", Value: 5}}, nil},
		{tollgate.Params{{Key: "count", Value: 5.0}}, []string{"count | params.count: expected type 'integer', got float"}},
		{tollgate.Params{{Key: "count", Value: int64(1) << 40}}, nil},
		{tollgate.Params{{Key: "ratio", Value: 1}}, []string{"ratio | params.ratio: value 1 < minimum 1.5"}},
		{tollgate.Params{{Key: "ratio", Value: 4}}, []string{"ratio | params.ratio: value 4 > maximum 3"}},
	}
	for _, tt := range tests {
		checkViolations(t, fmt.Sprint(tt.p), tool.ValidateParams(tt.p), tt.want...)
	}
}

func TestValidateParamsNilParams(t *testing.T) {
	tool := mustTool(t, "tools:\n  t:\n    params_schema: {type: object, required: [a]}\n", "t")
	checkViolations(t, "nil params", tool.ValidateParams(nil), "a | params: missing required key 'a'")
}

func TestValidateParamsDrafts(t *testing.T) {
	// Draft 2020-12 when the schema says so: prefixItems is understood.
	tool := mustTool(t, `tools:
  t:
    params_schema:
      $schema: https://json-schema.org/draft/2020-12/schema
      properties:
        pair: {prefixItems: [{type: string}, {type: integer}], items: false}
        when: {type: string, format: date}
`, "t")
	checkViolations(t, "2020-12 prefixItems", tool.ValidateParams(params(t, `{"pair": ["a", "b"]}`)),
		"pair[1] | params.pair[1]: expected type 'integer', got str")
	checkViolations(t, "2020-12 items false", tool.ValidateParams(params(t, `{"pair": ["a", 1, 2]}`)),
		"pair[2] | params.pair[2]: false schema")
	checkViolations(t, "format asserted in 2020-12", tool.ValidateParams(params(t, `{"when": "yesterday"}`)),
		`when | params.when: 'yesterday' is not valid date: parsing time "yesterday" as "2006-01-02": cannot parse "yesterday" as "2006"`)

	// Draft-07 by default: a $ref replaces its siblings.
	tool = mustTool(t, `tools:
  t:
    params_schema:
      definitions: {s: {type: string}}
      properties:
        a: {$ref: "#/definitions/s", maxLength: 1}
`, "t")
	checkViolations(t, "draft-07 $ref siblings", tool.ValidateParams(params(t, `{"a": "long"}`)))
	checkViolations(t, "draft-07 $ref", tool.ValidateParams(params(t, `{"a": 1}`)),
		"a | params.a: expected type 'string', got int")
}

func TestValidateParamsConcurrent(t *testing.T) {
	tool := mustTool(t, `tools:
  t:
    params_schema:
      type: object
      required: [path]
      properties:
        path: {type: string, pattern: "^/safe/"}
`, "t")
	good, bad := params(t, `{"path": "/safe/a"}`), params(t, `{"path": "/etc/passwd"}`)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				if v := tool.ValidateParams(good); v != nil {
					errs <- fmt.Sprint("good params refused: ", v)
				}
				if v := tool.ValidateParams(bad); len(v) != 1 {
					errs <- fmt.Sprint(i, ": bad params: ", v)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
		break
	}
}
