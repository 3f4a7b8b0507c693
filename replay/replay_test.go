package replay

import (
	"crypto/ed25519"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

const candidate = `
rules:
  - id: geo_outside_eu
    tool: api:geo
    when: {region: {"!=": eu}}
    decision: DENY
  - id: deny_evil_session_deletes
    effect: delete
    intent: {session_id: s-evil}
    decision: DENY
  - id: allow_reads
    effect: read
    decision: ALLOW
  - id: ask_risky
    effect: write
    when: {risk: {">": 0.5}}
    decision: ASK
  - id: ask_secret_writes
    effect: write
    when: {secret_level: {">=": 3}}
    decision: ASK
  - id: allow_writes
    effect: write
    decision: ALLOW
`

func TestRunRedactedLog(t *testing.T) {
	long := strings.Repeat("x", 5000) // cut by the sink (4 KiB)
	path := writeLog(t, flat(
		pair("c1", tollgate.Allow, "allow_reads", session("s-1"), meta("risk", 0.2)),
		pair("c2", tollgate.Allow, "allow_writes", write(tollgate.EffectWrite), meta("risk", 0.9)),
		[]*audit.Event{
			event("c3", tollgate.OutcomeBlocked, tollgate.Deny, "", refusedBy(tollgate.StageRateLimit, tollgate.ReasonRateLimited)),
			event("c4", tollgate.OutcomeApprovalDenied, tollgate.Ask, "ask_risky", write(tollgate.EffectWrite), meta("risk", 0.9),
				refusedBy(tollgate.StageApproval, tollgate.ReasonApprovalDenied)),
		},
		pair("c5", tollgate.Allow, "allow_writes", write(tollgate.EffectWrite), meta("note", long)),
		pair("c6", tollgate.Allow, "allow_writes", write(tollgate.EffectWrite), meta("secret_level", 5)),
		[]*audit.Event{
			event("c7", tollgate.OutcomeBlocked, tollgate.Deny, "", write(tollgate.EffectDelete), session("s-1"),
				refusedBy(tollgate.StagePolicy, tollgate.ReasonPolicyDenied)),
		},
		pair("c8", tollgate.Allow, "allow_reads", func(e *audit.Event) { e.ToolRequest.Tool = "api:geo" }, meta("region", long)),
		pair("c9", tollgate.Allow, "allow_reads", func(e *audit.Event) { e.ToolRequest.Tool = "api:geo" }, meta("region", "eu")),
	)...)
	s, calls := runFile(t, replayer(t, candidate, ""), path)

	want := "c1=unchanged c2=changed c3=skipped c4=unchanged c5=unchanged c6=undetermined c7=undetermined c8=undetermined c9=unchanged"
	if got := statuses(calls); got != want {
		t.Fatalf("statuses:\n got %s\nwant %s", got, want)
	}
	if s.Lines != 15 || s.Total != 9 || s.Changed != 1 || s.Undetermined != 3 || s.Skipped != 1 {
		t.Errorf("summary %+v", s)
	}
	if c := calls["c2"]; c.New.Decision != tollgate.Ask || c.New.Rule != "ask_risky" || c.Old.Rule != "allow_writes" || c.Seq != 3 || c.Line != 3 {
		t.Errorf("c2 = %+v", c)
	}
	if m := s.Moves[Move{tollgate.Allow, tollgate.Ask}]; m != 1 || len(s.Moves) != 1 {
		t.Errorf("moves %v", s.Moves)
	}
	if n := s.ByRule[RuleMove{Tool: "api:write", Rule: "ask_risky", Stage: tollgate.StagePolicy, Move: Move{tollgate.Allow, tollgate.Ask}}]; n != 1 {
		t.Errorf("by rule %v", s.ByRule)
	}
	for id, field := range map[string]string{"c6": "when.secret_level", "c7": "intent.session_id", "c8": "when.region"} {
		if c := calls[id]; !strings.Contains(c.Why, field) || c.New != (Verdict{}) {
			t.Errorf("%s: why %q, new %+v; want it to name %s and no verdict", id, c.Why, c.New, field)
		}
	}
	if !strings.Contains(calls["c8"].Why, "matched") || !strings.Contains(calls["c6"].Why, "did not match") {
		t.Errorf("c8 why %q, c6 why %q", calls["c8"].Why, calls["c6"].Why)
	}
	if !strings.Contains(calls["c3"].Why, "ratelimit") {
		t.Errorf("c3 why %q", calls["c3"].Why)
	}
}

const guarded = `
rules:
  - id: allow_reads
    effect: read
    decision: ALLOW
network_policy:
  default: deny
  allowlist:
    - pattern: "https://api.example.com/*"
`

const schemaManifest = `
version: "1.0.0"
tools:
  "api:fetch":
    effect: read
    resource_type: data
    params_schema:
      type: object
      properties:
        url: {type: string, maxLength: 40}
`

func TestRunParams(t *testing.T) {
	path := writeLog(t, flat(
		pair("p1", tollgate.Allow, "allow_reads"),
		pair("p2", tollgate.Allow, "allow_reads", func(e *audit.Event) {
			e.ToolRequest.Params = tollgate.Params{{Key: "url", Value: "https://evil.example.org/"}}
		}),
		pair("p3", tollgate.Allow, "allow_reads", param("password", "hunter2")),
		[]*audit.Event{
			event("p4", tollgate.OutcomeBlocked, tollgate.Deny, "", refusedBy(tollgate.StageSchema, tollgate.ReasonParamsInvalid),
				func(e *audit.Event) {
					e.ToolRequest.Params = tollgate.Params{{Key: "url", Value: "https://api.example.com/" + strings.Repeat("a", 40)}}
				}),
		},
	)...)
	cases := []struct {
		name, policy, manifest, want string
	}{
		{"policy only", strings.Split(guarded, "network_policy")[0], "",
			"p1=unchanged p2=unchanged p3=unchanged p4=skipped"},
		{"network guard", guarded, "",
			"p1=unchanged p2=changed p3=undetermined p4=skipped"},
		{"guard and manifest", guarded, schemaManifest,
			"p1=unchanged p2=changed p3=undetermined p4=unchanged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, calls := runFile(t, replayer(t, c.policy, c.manifest), path)
			if got := statuses(calls); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if p2 := calls["p2"]; p2.Status == Changed && (p2.New.Stage != tollgate.StageNetwork || p2.New.Decision != tollgate.Deny) {
				t.Errorf("p2 = %+v", p2)
			}
			if p4 := calls["p4"]; p4.Status == Unchanged && p4.New.Stage != tollgate.StageSchema {
				t.Errorf("p4 = %+v", p4)
			}
		})
	}
}

func TestLostKey(t *testing.T) {
	collapsed := tollgate.Params{{Key: "[TRUNCATED]", Value: "3 keys, 9000 bytes"}}
	cut := tollgate.Params{{Key: "role", Value: "admin"}, {Key: "x… [TRUNCATED: 5000 bytes, sha256:00]", Value: 1}}
	nested := tollgate.Params{{Key: "role", Value: []any{tollgate.Params{{Key: "a", Value: "[REDACTED]"}}}}}
	for _, c := range []struct {
		p    tollgate.Params
		want bool
	}{{collapsed, true}, {cut, true}, {nested, true}, {tollgate.Params{{Key: "role", Value: "admin"}}, false}, {nil, false}} {
		if got := lostKey(c.p, "role"); got != c.want {
			t.Errorf("lostKey(%v, role) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestRunBadLines(t *testing.T) {
	r := replayer(t, candidate, "")
	for _, c := range []struct{ log, want string }{
		{`{"decision": {"decision": "MAYBE"}}` + "\n", `line 1: "decision.decision": want ALLOW, ASK or DENY, got "MAYBE"`},
		{"{}\n[1]\n", "line 1"},
		{`{"decision": {"decision": "ALLOW"}}` + "\nnot json\n", "line 2"},
		{`{"decision": {"decision": "ALLOW"}, "seq": -1}` + "\n", `line 1: "seq"`},
		{`{"decision": {"decision": "ALLOW"}}`, "line 1 is incomplete"},
	} {
		_, err := r.Run(strings.NewReader(c.log), func(*Call) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.log, err, c.want)
		}
	}
	stop := errors.New("stop")
	path := writeLog(t, pair("a", tollgate.Allow, "allow_reads")...)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := r.Run(f, func(*Call) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: got %v", err)
	}
}

func TestRunSkipsCheckpoints(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := []audit.Option{audit.WithCheckpointKey(key), audit.WithCheckpointEvery(1, 0)}
	path := writeLogWith(t, opts, flat(pair("a", tollgate.Allow, "allow_reads"), pair("b", tollgate.Allow, "allow_writes", write(tollgate.EffectWrite), meta("risk", 1)))...)
	s, calls := runFile(t, replayer(t, candidate, ""), path)
	if s.Lines <= 4 || s.Total != 2 || statuses(calls) != "a=unchanged b=changed" {
		t.Errorf("summary %+v, calls %s", s, statuses(calls))
	}
}
