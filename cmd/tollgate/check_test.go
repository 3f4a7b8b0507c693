package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// checkCall runs check on a call given as text on stdin.
func checkCall(t *testing.T, call string, extra ...string) result {
	t.Helper()
	args := append([]string{"check", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--call", "-"}, extra...)
	return cli(t, strings.NewReader(call), args...)
}

const (
	trustedWrite   = `{"agent": {"agent_id": "worker", "delegated_by": ["orchestrator"]}, "tool_request": {"tool": "api:write_file", "params": {"path": "/safe/out.txt", "content": "hi"}}}`
	directWrite    = `{"tool_request": {"tool": "api:write_file", "params": {"path": "/safe/out.txt", "content": "hi"}}}`
	untrustedWrite = `{"agent": {"agent_id": "worker", "delegated_by": ["stranger"]}, "tool_request": {"tool": "api:write_file", "params": {"path": "/safe/out.txt", "content": "hi"}}}`
	badPathWrite   = `{"agent": {"agent_id": "worker", "delegated_by": ["orchestrator"]}, "tool_request": {"tool": "api:write_file", "params": {"path": "/etc/passwd", "content": "x"}}}`
)

func TestCheckExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name, call string
		code       int
		want       []string
	}{
		{"allow", trustedWrite, 0, []string{"decision:       ALLOW", "policy_id:      allow_trusted_delegation", "tool:           api:write_file (effect write, resource_type file, manifest_version 1.0.0)"}},
		{"ask", directWrite, 3, []string{"decision:       ASK", "policy_id:      ask_direct_writes"}},
		{"deny by policy", untrustedWrite, 4, []string{"decision:       DENY", "stage:          policy", "reason_code:    POLICY_DENIED", "policy_id:      deny_untrusted_delegation"}},
		{"deny by schema", badPathWrite, 4, []string{"stage:          schema", "reason_code:    PARAMS_INVALID", "violation:      params.path: value does not match pattern '^/safe/'"}},
		{"unknown tool", `tool_request: {tool: "api:nope", effect: read, manifest_version: "1.0.0"}`, 4, []string{"effect unknown", `note:           tool "api:nope" is not in the manifest`}},
		// The call's claims about effect and manifest version are ignored.
		{"claims ignored", `{"tool_request": {"tool": "api:delete_resource", "effect": "read", "manifest_version": "9", "params": {"resource_id": "r-1"}}}`, 3, []string{"policy_id:      ask_deletes", "effect delete"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := checkCall(t, tt.call).want(t, tt.code)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
}

func TestCheckGolden(t *testing.T) {
	for _, tt := range []struct {
		golden, call string
		args         []string
		code         int
	}{
		{"check_allow_explain.text", trustedWrite, []string{"--explain"}, 0},
		{"check_schema_explain.json", badPathWrite, []string{"--explain", "--format", "json"}, 4},
		{"check_deny.json", untrustedWrite, []string{"--format", "json"}, 4},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			r := checkCall(t, tt.call, tt.args...).want(t, tt.code)
			golden(t, tt.golden, r.stdout)
		})
	}
}

func TestCheckJSONFields(t *testing.T) {
	r := checkCall(t, untrustedWrite, "--format", "json", "--explain").want(t, 4)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"decision": "DENY", "stage": "policy", "reason_code": "POLICY_DENIED",
		"reason": "Untrusted or deep delegation chain", "policy_id": "deny_untrusted_delegation",
	} {
		if out[k] != want {
			t.Errorf("%s = %#v, want %#v", k, out[k], want)
		}
	}
	trace := out["explain"].(map[string]any)
	if m := trace["matched"].(map[string]any); m["id"] != "deny_untrusted_delegation" || len(trace["misses"].([]any)) != 4 {
		t.Errorf("explain %v", trace)
	}
	r = checkCall(t, trustedWrite, "--format", "json").want(t, 0)
	out = nil
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out["reason_code"] != nil || out["stage"] != "policy" || out["explain"] != nil {
		t.Errorf("allow: %v", out)
	}
}

// With --agent-hmac-secret-env the identity stage runs: an unsigned or
// badly signed agent is refused before the policy.
func TestCheckIdentity(t *testing.T) {
	t.Setenv("AGENT_SECRET", "agent-signing-key-67890")
	r := checkCall(t, trustedWrite, "--agent-hmac-secret-env", "AGENT_SECRET").want(t, 4)
	if !strings.Contains(r.stdout, "stage:          identity") || !strings.Contains(r.stdout, "IDENTITY_INVALID") {
		t.Fatalf("unsigned agent:\n%s", r.stdout)
	}
	signed := identity.SignLegacy(tollgate.Agent{ID: "worker", Version: "1.0", Owner: "test-owner", DelegatedBy: []string{"orchestrator"}}, []byte("agent-signing-key-67890"))
	sig, _ := signed.Metadata.Get("_signature")
	call := `{"agent": {"agent_id": "worker", "delegated_by": ["orchestrator"], "metadata": {"_signature": "` + sig.(string) + `"}},
	          "tool_request": {"tool": "api:write_file", "params": {"path": "/safe/a", "content": "b"}}}`
	checkCall(t, call, "--agent-hmac-secret-env", "AGENT_SECRET").want(t, 0)
}

func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	yamlCall := mkfile(t, filepath.Join(dir, "call.yaml"), []byte("# a scenario pasted as it is\nname: direct write\nagent: {agent_id: a}\ntool_request:\n  tool: \"api:write_file\"\n  params: {path: /safe/x, content: y}\nexpected: {decision: ASK}\n"))
	cli(t, nil, "check", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--call", yamlCall).want(t, 3)

	typo := mkfile(t, filepath.Join(dir, "typo.yaml"), []byte("tool_requst: {tool: x}\n"))
	cli(t, nil, "check", "--policy", "testdata/policy.yaml", "--call", typo).want(t, 2).oneLineErr(t, typo+`:1:1: the call: unknown key "tool_requst"`)

	// Without a manifest every tool is unknown, as in production.
	r := cli(t, strings.NewReader(trustedWrite), "check", "--policy", "testdata/policy.yaml", "--call", "-").want(t, 4)
	if !strings.Contains(r.stdout, "note:           no --manifest") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	bad := mkfile(t, filepath.Join(dir, "p.yaml"), []byte("rules:\n  - {effect: read, decision: MAYBE}\n"))
	cli(t, strings.NewReader(trustedWrite), "check", "--policy", bad, "--call", "-").want(t, 2).oneLineErr(t, bad+":2:")
}
