package approvals_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

func TestRequestHashGoldenVectors(t *testing.T) {
	params := func(s string) tollgate.Params {
		p, err := tollgate.ParseParams([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		agent  tollgate.Agent
		intent string
		req    tollgate.ToolRequest
		want   string
	}{
		{
			tollgate.Agent{ID: "test-bot", Version: "1.0.0"}, "demo",
			tollgate.ToolRequest{Tool: "mcp", Action: "read_file", Effect: tollgate.EffectRead, ResourceType: "file", Params: params(`{"path": "test.txt"}`), Metadata: tollgate.Params{}},
			"6198dfa749042d80e2710d405dc3b26be2ca675fa8801eb5f765cf7ec22991e3",
		},
		{
			tollgate.Agent{ID: "a", Version: "1"}, "i",
			tollgate.ToolRequest{Tool: "t", Action: "a", Effect: tollgate.EffectWrite, ResourceType: "r"},
			"185440df28d03027489edd8f1d6296b9c74b2d7ca902723f96ca334696826b6a",
		},
		{
			tollgate.Agent{ID: "a", Version: "1"}, "i",
			tollgate.ToolRequest{
				Tool: "t", Action: "a", Effect: tollgate.EffectWrite, ResourceType: "r",
				Params:   params(`{"z": 1.0, "a": [1, 2.5, true, null], "u": "ü€😀", "n": {"b": 2, "a": 1e16}, "f": 0.00001}`),
				Metadata: params(`{"k": "v"}`),
			},
			"5c4f0b8dcc85bc2d6236d1c6e2a38ee9392b0b9009560503202a60def1cda165",
		},
		{ // more keys than are sorted on the stack, in reverse order
			tollgate.Agent{ID: "a", Version: "1"}, "i",
			tollgate.ToolRequest{
				Tool: "t", Action: "a", Effect: tollgate.EffectWrite, ResourceType: "r",
				Params: params(`{"k19": 0, "k18": 1, "k17": 2, "k16": 3, "k15": 4, "k14": 5, "k13": 6, "k12": 7, "k11": 8, "k10": 9, "k09": 10, "k08": 11, "k07": 12, "k06": 13, "k05": 14, "k04": 15, "k03": 16, "k02": 17, "k01": 18, "k00": 19}`),
			},
			"cfae39e4a99e3ba765517f74aa3bcf611cffa68f11273b2b32e70f8e893e32c8",
		},
	}
	for i, tt := range tests {
		if got := approvals.RequestHash(tt.agent, tollgate.Intent{Action: tt.intent}, tt.req); got != tt.want {
			t.Errorf("vector %d: RequestHash = %s, want %s", i, got, tt.want)
		}
	}
}

// The request hash runs on every call: its one allocation is the string it
// returns, even for params whose keys it must sort.
func TestRequestHashAllocatesOnlyItsResult(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts of pooled code are meaningless under -race")
	}
	agent, intent, req := benchHashCall()
	if n := testing.AllocsPerRun(100, func() { approvals.RequestHash(agent, intent, req) }); n > 1 {
		t.Errorf("RequestHash allocates %v times per call, want 1", n)
	}
}

// TestRequestHashAuditFixtures recomputes every request_hash recorded in
// Tollgate's example audit logs.
func TestRequestHashAuditFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*_audit.jsonl")
	if err != nil || len(files) != 3 {
		t.Fatalf("fixtures: %v, %v", files, err)
	}
	total := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			var ev struct {
				RequestHash string `json:"request_hash"`
				Agent       struct {
					AgentID string `json:"agent_id"`
					Version string `json:"version"`
				} `json:"agent"`
				Intent struct {
					Action string `json:"action"`
				} `json:"intent"`
				ToolRequest struct {
					Tool         string          `json:"tool"`
					Action       string          `json:"action"`
					ResourceType string          `json:"resource_type"`
					Effect       tollgate.Effect `json:"effect"`
					Params       tollgate.Params `json:"params"`
					Metadata     tollgate.Params `json:"metadata"`
				} `json:"tool_request"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s:%d: %v", name, line, err)
			}
			tr := ev.ToolRequest
			got := approvals.RequestHash(
				tollgate.Agent{ID: ev.Agent.AgentID, Version: ev.Agent.Version},
				tollgate.Intent{Action: ev.Intent.Action},
				tollgate.ToolRequest{Tool: tr.Tool, Action: tr.Action, ResourceType: tr.ResourceType, Effect: tr.Effect, Params: tr.Params, Metadata: tr.Metadata},
			)
			if got != ev.RequestHash {
				t.Errorf("%s:%d: RequestHash = %s, log has %s", name, line, got, ev.RequestHash)
			}
			total++
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if total != 44 {
		t.Errorf("recomputed %d hashes, want all 44", total)
	}
}

// call is the input of BindingHash.
type call struct {
	a tollgate.Agent
	i tollgate.Intent
	r tollgate.ToolRequest
}

func (c call) hash() string { return approvals.BindingHash(c.a, c.i, c.r) }

func bindingCall() call {
	conf := 0.5
	return call{
		a: tollgate.Agent{ID: "agent", Version: "1", Owner: "team", DelegatedBy: []string{"root", "router"}, Metadata: tollgate.Params{{Key: "_signature", Value: "x"}}},
		i: tollgate.Intent{Action: "act", Reason: "why", Confidence: &conf, Metadata: tollgate.Params{{Key: "trace", Value: "1"}}},
		r: tollgate.ToolRequest{
			Tool: "api:write", Action: "write", ResourceType: "file", Effect: tollgate.EffectWrite, ManifestVersion: "1.0.0",
			Params:   tollgate.Params{{Key: "path", Value: "/safe/a"}, {Key: "n", Value: json.Number("1")}, {Key: "list", Value: []any{"x", true, nil}}},
			Metadata: tollgate.Params{{Key: "k", Value: "v"}},
		},
	}
}

func TestBindingHashCoversTheCall(t *testing.T) {
	base := bindingCall().hash()
	if len(base) != 64 || base != bindingCall().hash() {
		t.Fatalf("BindingHash is not a stable hex SHA-256: %q", base)
	}
	changes := map[string]func(c *call){
		"agent id":              func(c *call) { c.a.ID = "agent2" },
		"version":               func(c *call) { c.a.Version = "2" },
		"owner":                 func(c *call) { c.a.Owner = "other" },
		"no delegation":         func(c *call) { c.a.DelegatedBy = nil },
		"delegation order":      func(c *call) { c.a.DelegatedBy = []string{"router", "root"} },
		"delegation split":      func(c *call) { c.a.DelegatedBy = []string{"root", "rou", "ter"} },
		"id/version boundary":   func(c *call) { c.a.ID, c.a.Version = "agent1", "" },
		"intent action":         func(c *call) { c.i.Action = "other" },
		"intent reason":         func(c *call) { c.i.Reason = "other" },
		"tool":                  func(c *call) { c.r.Tool = "api:delete" },
		"action":                func(c *call) { c.r.Action = "append" },
		"effect":                func(c *call) { c.r.Effect = tollgate.EffectDelete },
		"resource type":         func(c *call) { c.r.ResourceType = "dir" },
		"manifest version":      func(c *call) { c.r.ManifestVersion = "" },
		"param value":           func(c *call) { c.r.Params[0].Value = "/safe/b" },
		"number text":           func(c *call) { c.r.Params[1].Value = json.Number("1.0") },
		"number vs string":      func(c *call) { c.r.Params[1].Value = "1" },
		"null vs false":         func(c *call) { c.r.Params[2].Value = []any{"x", true, false} },
		"invalid UTF-8":         func(c *call) { c.r.Params[0].Value = "/safe/\xff" },
		"replacement character": func(c *call) { c.r.Params[0].Value = "/safe/\ufffd" },
		"extra param":           func(c *call) { c.r.Params = append(c.r.Params, tollgate.Field{Key: "x"}) },
		"metadata":              func(c *call) { c.r.Metadata = nil },
		"params/metadata shift": func(c *call) { c.r.Params, c.r.Metadata = append(c.r.Params, c.r.Metadata...), nil },
	}
	seen := map[string]string{base: "base"}
	for name, change := range changes {
		c := bindingCall()
		change(&c)
		h := c.hash()
		if prev, dup := seen[h]; dup {
			t.Errorf("%s: same hash as %s", name, prev)
		}
		seen[h] = name
	}
}

func TestBindingHashIgnores(t *testing.T) {
	base := bindingCall().hash()
	c := bindingCall()
	c.a.Metadata = nil
	c.i.Confidence, c.i.Metadata = nil, nil
	c.r.Params = tollgate.Params{c.r.Params[2], c.r.Params[0], c.r.Params[1]} // key order
	if c.hash() != base {
		t.Error("agent metadata, intent confidence/metadata or key order changed the binding hash")
	}
	empty, nilMeta := bindingCall(), bindingCall()
	empty.r.Metadata, nilMeta.r.Metadata = tollgate.Params{}, nil
	if empty.hash() != nilMeta.hash() {
		t.Error("empty and nil metadata hash differently")
	}
}

func TestBindingHashUnencodableMatchesNothing(t *testing.T) {
	c := bindingCall()
	cyclic := []any{nil}
	cyclic[0] = cyclic
	for name, v := range map[string]any{"channel": make(chan int), "cycle": cyclic} {
		c.r.Params = tollgate.Params{{Key: "v", Value: v}}
		if h1, h2 := c.hash(), c.hash(); h1 == h2 {
			t.Errorf("%s: unencodable value gives a repeatable hash %s", name, h1)
		}
	}
	c.r.Params = tollgate.Params{{Key: "v", Value: map[string]int{"b": 1, "a": 2}}}
	if c.hash() != c.hash() {
		t.Error("JSON-encodable value outside the model gives an unstable hash")
	}
}

// benchHashCall is a typical call, its params in the order a client sends
// them (not sorted).
func benchHashCall() (tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) {
	agent := tollgate.Agent{ID: "demo-agent", Version: "1.0.0", Owner: "demo-team"}
	intent := tollgate.Intent{Action: "write_file", Reason: "Demo: write file"}
	req := tollgate.ToolRequest{
		Tool: "api:write_file", Action: "write", ResourceType: "file", Effect: tollgate.EffectWrite,
		Params: tollgate.Params{{Key: "path", Value: "/safe/output.txt"}, {Key: "content", Value: "Hello, world"}, {Key: "mode", Value: json.Number("420")}},
	}
	return agent, intent, req
}

func BenchmarkRequestHash(b *testing.B) {
	agent, intent, req := benchHashCall()
	b.ReportAllocs()
	for b.Loop() {
		approvals.RequestHash(agent, intent, req)
	}
}

func BenchmarkBindingHash(b *testing.B) {
	c := bindingCall()
	b.ReportAllocs()
	for b.Loop() {
		c.hash()
	}
}
