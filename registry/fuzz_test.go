package registry_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate/registry"
)

// FuzzParse feeds arbitrary manifests to Parse and exercises every tool it
// accepts: nothing may panic, and a refusal must say something.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/manifest.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"tools:\n",
		"tools: {a: {}}\n",
		"version: 1.10\ntools:\n  a: {effect: read, ask_mode: x}\n",
		"tools:\n  a: {effect: delete, approvals_required: 2}\n",
		"tools:\n  a:\n    params_schema: {type: [string, 'null'], enum: [a, ~], maxLength: .inf}\n",
		"tools:\n  a:\n    params_schema: {$ref: '#', properties: {x: {$ref: '#/properties/x'}}}\n",
		"tools:\n  a:\n    params_schema: {definitions: {d: &a {type: object}}, items: *a, minimum: 1.0e+400}\n",
		"tools:\n  a:\n    params_schema: {$id: 'http://x/', $schema: 'https://json-schema.org/draft/2019-09/schema', $recursiveRef: '#'}\n",
		"tools:\n  a:\n    constraints: {allowed_url_patterns: ['https://[::1]:8*/x?'], param_constraints: {p: {pattern: '[', allowed_values: [1, [2], {a: b}]}}}\n",
	} {
		f.Add([]byte(s))
	}
	probes := []string{
		`{}`,
		`{"path": "/safe/x", "content": "c", "url": "https://api.github.com/x", "count": 5.0}`,
		`{"a": [1, {"b": "http://127.0.0.1/"}], "p": null, "x": {"x": {"x": "ftp://h/"}}}`,
		`{"p": [2], "table": {"a": "b"}, "email": "x@y", "n": -1e300}`,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := registry.Parse("f.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, key := range m.Tools() {
			tool, ok := m.Resolve(key)
			if !ok {
				continue
			}
			for _, p := range probes {
				ps := params(t, p)
				for _, v := range append(tool.ValidateParams(ps), tool.CheckConstraints(ps)...) {
					if v.Field == "" || v.Description == "" {
						t.Fatalf("tool %q: incomplete violation %+v", key, v)
					}
				}
			}
		}
	})
}
