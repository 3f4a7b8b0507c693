package registry_test

import (
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/registry"
)

func Example() {
	m, err := registry.Parse("manifest.yaml", []byte(`version: "1.0.0"
tools:
  "api:write_file":
    effect: write
    resource_type: file
    params_schema:
      type: object
      required: [path, content]
      properties:
        path: {type: string, pattern: "^/safe/"}
    constraints:
      allowed_url_patterns: ["https://*.example.com/*"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tool, _ := m.Resolve("api:write_file")
	fmt.Println(m.Version(), tool.Effect, tool.ResourceType)

	params, _ := tollgate.ParseParams([]byte(`{"path": "/etc/passwd", "source": "https://evil.com/.example.com/"}`))
	for _, v := range tool.ValidateParams(params) {
		fmt.Println(v.Description)
	}
	for _, v := range tool.CheckConstraints(params) {
		fmt.Println(v.Description)
	}
	// Output:
	// 1.0.0 write file
	// params: missing required key 'content'
	// params.path: value does not match pattern '^/safe/'
	// Parameter 'source': URL 'https://evil.com/.example.com/' does not match any allowed URL pattern
}

func ExampleLoad() {
	// Tollgate's HMAC-signed example manifest, verified before it is parsed.
	m, err := registry.Load("testdata/security_hardened/manifest.yaml",
		registry.WithHMACKey([]byte("manifest-signing-key-12345")))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Version(), m.Tools())

	_, err = registry.Load("testdata/security_hardened/manifest.yaml",
		registry.WithHMACKey([]byte("wrong key")))
	fmt.Println(err)
	// Output:
	// 1.0.0 [api:delete_resource api:fetch_data api:send_notification api:write_file]
	// Manifest signature verification failed for testdata/security_hardened/manifest.yaml. The manifest may have been tampered with, or the signature file (.sig) is missing.
}
