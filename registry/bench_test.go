package registry_test

import (
	"testing"

	"github.com/tollgate-go/tollgate/registry"
)

const benchManifest = `tools:
  "api:write_file":
    effect: write
    params_schema:
      type: object
      required: [path, content]
      properties:
        path: {type: string, pattern: "^/safe/", maxLength: 255}
        content: {type: string, maxLength: 1048576}
        mode: {type: integer, minimum: 0, maximum: 511}
    constraints:
      allowed_url_patterns: ["https://api.github.com/*", "https://*.example.com/*"]
      blocked_url_patterns: ["http://*"]
      param_constraints:
        table: {allowed_values: [users, orders]}
`

func BenchmarkValidateParams(b *testing.B) {
	tool := mustTool(b, benchManifest, "api:write_file")
	p := params(b, `{"path": "/safe/notes.txt", "content": "hello", "mode": 420}`)
	b.ReportAllocs()
	for b.Loop() {
		if v := tool.ValidateParams(p); v != nil {
			b.Fatal(v)
		}
	}
}

func BenchmarkCheckConstraints(b *testing.B) {
	tool := mustTool(b, benchManifest, "api:write_file")
	p := params(b, `{"url": "https://api.github.com/repos/x", "table": "users", "note": "plain text"}`)
	b.ReportAllocs()
	for b.Loop() {
		if v := tool.CheckConstraints(p); v != nil {
			b.Fatal(v)
		}
	}
}

// BenchmarkValidateParamsJSONSchema is BenchmarkValidateParams on the
// general path, for comparison with the fast path.
func BenchmarkValidateParamsJSONSchema(b *testing.B) {
	tool := mustTool(b, benchManifest, "api:write_file")
	p := params(b, `{"path": "/safe/notes.txt", "content": "hello", "mode": 420}`)
	b.ReportAllocs()
	for b.Loop() {
		if v := registry.ValidateParamsJSONSchema(tool, p); v != nil {
			b.Fatal(v)
		}
	}
}
