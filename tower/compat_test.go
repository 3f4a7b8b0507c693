package tower

import (
	"context"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/registry"
)

// The shipped security_hardened example, loaded through its signed manifest,
// decides its own scenarios as Tollgate does — with the tool's effect taken
// from the manifest rather than from the scenario.
func TestSecurityHardenedExampleThroughThePipeline(t *testing.T) {
	cfg, err := LoadFiles(Files{
		Policy:          "testdata/policy.yaml",
		Manifest:        "testdata/manifest.yaml",
		ManifestOptions: []registry.Option{registry.WithHMACKey([]byte("manifest-signing-key-12345"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	tw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := yamlx.ReadFile("testdata/test_scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := doc.Value(doc.Root)
	list, _ := root.(tollgate.Params).Get("scenarios")
	if len(list.([]any)) != 7 {
		t.Fatalf("want 7 scenarios")
	}
	for _, raw := range list.([]any) {
		s := raw.(tollgate.Params)
		name, _ := s.Get("name")
		t.Run(name.(string), func(t *testing.T) {
			a := tollgate.Agent{ID: "test-agent", Version: "1.0", Owner: "test-owner"}
			if av, ok := s.Get("agent"); ok {
				ap := av.(tollgate.Params)
				if v, ok := ap.Get("agent_id"); ok {
					a.ID = v.(string)
				}
				if v, ok := ap.Get("delegated_by"); ok {
					for _, d := range v.([]any) {
						a.DelegatedBy = append(a.DelegatedBy, d.(string))
					}
				}
			}
			tr, _ := s.Get("tool_request")
			tool, _ := tr.(tollgate.Params).Get("tool")
			v := tw.Decide(context.Background(), Call{
				Credentials: identity.Credentials{Claimed: a},
				Intent:      tollgate.Intent{Action: "test_action", Reason: "test reason"},
				// Scenarios test the policy only; the pipeline also checks
				// parameters, so give each tool valid ones.
				Request: tollgate.ToolRequest{Tool: tool.(string), Action: "unknown", Params: validParams[tool.(string)]},
			})
			exp, _ := s.Get("expected")
			want, _ := exp.(tollgate.Params).Get("decision")
			if string(v.Decision.Type) != want {
				t.Fatalf("decision = %s (%s), want %s", v.Decision.Type, v.Decision.Reason, want)
			}
			if id, ok := exp.(tollgate.Params).Get("policy_id"); ok && id != v.Decision.PolicyID {
				t.Errorf("policy_id = %q, want %q", v.Decision.PolicyID, id)
			}
		})
	}
}

var validParams = map[string]tollgate.Params{
	"api:write_file":        {{Key: "path", Value: "/safe/report.txt"}, {Key: "content", Value: "hello"}},
	"api:send_notification": {{Key: "recipient", Value: "ops@example.com"}, {Key: "message", Value: "done"}},
}

func TestLoadFilesRefusesTamperedManifest(t *testing.T) {
	_, err := LoadFiles(Files{
		Policy:          "testdata/policy.yaml",
		Manifest:        "testdata/manifest.yaml",
		ManifestOptions: []registry.Option{registry.WithHMACKey([]byte("wrong-key"))},
	})
	if err == nil {
		t.Fatal("a manifest whose signature does not verify was loaded")
	}
}
