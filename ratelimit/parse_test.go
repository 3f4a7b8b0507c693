package ratelimit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/ratelimit"
)

// rateLimitsNode returns the value of the top-level rate_limits key (nil
// when absent).
func rateLimitsNode(t testing.TB, doc *yamlx.Document) *yaml.Node {
	t.Helper()
	pairs, err := doc.Mapping(doc.Root, "the policy file")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p.Key == "rate_limits" {
			return p.ValueNode
		}
	}
	return nil
}

func parse(t testing.TB, src string) ([]ratelimit.Rule, error) {
	t.Helper()
	doc, err := yamlx.Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("yamlx.Parse: %v", err)
	}
	return ratelimit.ParseRules(doc, rateLimitsNode(t, doc))
}

func TestParseRulesFromPolicyFile(t *testing.T) {
	doc, _, err := yamlx.ReadFile("testdata/policy_with_limits.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ratelimit.ParseRules(doc, rateLimitsNode(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		agent, tool string
		effect      tollgate.Effect
		max         int
		window      time.Duration
	}{
		{"*", "*", "", 10, time.Minute},
		{"*", "mcp:*", tollgate.EffectWrite, 2, 500 * time.Millisecond},
		{"demo-agent", "api:fetch_data", "", 0, time.Minute},
	}
	if len(rules) != len(want) {
		t.Fatalf("got %d rules, want %d", len(rules), len(want))
	}
	for i, w := range want {
		r := rules[i]
		if r.AgentID != w.agent || r.Tool != w.tool || r.Effect != w.effect || r.MaxCalls != w.max || r.Window != w.window {
			t.Errorf("rule %d = %+v, want %+v", i+1, r, w)
		}
	}
}

func TestParseRulesAbsentKeyMeansNoRules(t *testing.T) {
	rules, err := parse(t, "rules: []\n")
	if err != nil || rules != nil {
		t.Fatalf("got %v, %v; want no rules and no error", rules, err)
	}
	rules, err = parse(t, "rate_limits: []\n")
	if err != nil || len(rules) != 0 {
		t.Fatalf("got %v, %v; want no rules and no error", rules, err)
	}
}

// The window is printed in the reason the way Python prints the YAML number.
func TestParsedWindowPrintedAsWritten(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"60", " 60s window"},
		{"60.0", " 60.0s window"},
		{"0.5", " 0.5s window"},
		{"1:00", " 60s window"}, // YAML 1.1 sexagesimal, as PyYAML reads it
		{"1_0", " 10s window"},
		{"0x10", " 16s window"},
	} {
		rules, err := parse(t, "rate_limits:\n  - max_calls: 0\n    window_seconds: "+tc.yaml+"\n")
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		l := newLimiter(t, newFakeClock(), rules...)
		if res := mustRefuse(t, l, "a", call("t", "read")); !strings.Contains(res.Reason, tc.want) {
			t.Errorf("window_seconds: %s: reason %q, want %q", tc.yaml, res.Reason, tc.want)
		}
	}
}

// Changing a parsed rule's Window drops the remembered YAML spelling.
func TestParsedWindowTextIgnoredAfterWindowChanges(t *testing.T) {
	rules, err := parse(t, "rate_limits:\n  - max_calls: 0\n    window_seconds: 60.0\n")
	if err != nil {
		t.Fatal(err)
	}
	rules[0].Window = 2 * time.Minute
	l := newLimiter(t, newFakeClock(), rules...)
	if res := mustRefuse(t, l, "a", call("t", "read")); !strings.Contains(res.Reason, " 120s window") {
		t.Errorf("reason %q, want 120s", res.Reason)
	}
}

func TestParseRulesErrors(t *testing.T) {
	const head = "version: 1\nrate_limits:\n"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"null list", "", "policy.yaml:2:13: rate_limits is empty; list rules under it, or write `rate_limits: []`"},
		{"not a list", "  max_calls: 5\n", "policy.yaml:3:3: rate_limits must be a list, got a mapping"},
		{"item not a mapping", "  - 5\n", "policy.yaml:3:5: rate limit rule 1 must be a mapping (key: value), got \"5\""},
		{"unknown key", "  - max_calls: 5\n    window_seconds: 60\n    windows: 2\n",
			`policy.yaml:5:5: rate limit rule 1: unknown key "windows"; a rate limit rule takes agent_id, tool, effect, max_calls and window_seconds`},
		{"missing max_calls", "  - window_seconds: 60\n", "policy.yaml:3:5: rate limit rule 1 has no max_calls; add `max_calls: N`"},
		{"missing window", "  - max_calls: 1\n  - max_calls: 5\n    tool: x\n", "policy.yaml:3:5: rate limit rule 1 has no window_seconds; add `window_seconds: N`"},
		{"upper-case effect", "  - effect: WRITE\n    max_calls: 1\n    window_seconds: 60\n",
			`policy.yaml:3:13: rate limit rule 1: effect "WRITE" is not an effect; use one of read, write, delete, notify, unknown (lower-case), or "*" for any effect`},
		{"effect list", "  - effect: [read]\n    max_calls: 1\n    window_seconds: 60\n", "policy.yaml:3:13: rate limit rule 1: effect must be text, got a list"},
		{"negative max", "  - max_calls: -3\n    window_seconds: 60\n", "policy.yaml:3:16: rate limit rule 1: max_calls must be >= 0, got -3"},
		{"huge max", "  - max_calls: 99999999999999999999999\n    window_seconds: 60\n", "policy.yaml:3:16: rate limit rule 1: max_calls must be at most 1000000"},
		{"float max", "  - max_calls: 2.5\n    window_seconds: 60\n", "policy.yaml:3:16: rate limit rule 1: max_calls must be a whole number, got 2.5"},
		{"quoted max", "  - max_calls: \"5\"\n    window_seconds: 60\n", `policy.yaml:3:16: rate limit rule 1: max_calls must be a number, got the text "5"; remove the quotes`},
		{"bool max", "  - max_calls: yes\n    window_seconds: 60\n", "policy.yaml:3:16: rate limit rule 1: max_calls must be a number, got True"},
		{"null max", "  - max_calls:\n    window_seconds: 60\n", "rate limit rule 1: max_calls must be a number, got null"},
		{"zero window", "  - max_calls: 1\n    window_seconds: 0\n", "policy.yaml:4:21: rate limit rule 1: window_seconds must be > 0, got 0"},
		{"negative window", "  - max_calls: 1\n    window_seconds: -1.5\n", "window_seconds must be > 0, got -1.5"},
		{"nan window", "  - max_calls: 1\n    window_seconds: .nan\n", "window_seconds must be > 0, got NaN"},
		{"inf window", "  - max_calls: 1\n    window_seconds: .inf\n", "window_seconds Infinity is too long"},
		{"huge window", "  - max_calls: 1\n    window_seconds: 1e400\n", "window_seconds must be a number, got '1e400'"},
		{"tiny window", "  - max_calls: 1\n    window_seconds: 0.0000000001\n", "window_seconds 1e-10 is shorter than a nanosecond"},
		{"numeric agent", "  - agent_id: 123\n    max_calls: 1\n    window_seconds: 60\n",
			`policy.yaml:3:15: rate limit rule 1: agent_id must be text, got 123; quote it ("123") if that is the name`},
		{"null agent", "  - agent_id: ~\n    max_calls: 1\n    window_seconds: 60\n", `agent_id must be text, got null; use "*" for any agent`},
		{"empty tool", "  - tool: \"\"\n    max_calls: 1\n    window_seconds: 60\n", `policy.yaml:3:11: rate limit rule 1: tool is empty; use "*" for any tool`},
		{"bool tool", "  - tool: on\n    max_calls: 1\n    window_seconds: 60\n", `tool must be text, got True; quote it ("on")`},
		{"second rule", "  - max_calls: 1\n    window_seconds: 60\n  - max_calls: 1\n    window_seconds: 60\n    effect: Read\n",
			`policy.yaml:7:13: rate limit rule 2: effect "Read" is not an effect`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, head+tc.body)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
			var ye *yamlx.Error
			if !errors.As(err, &ye) || ye.Line == 0 {
				t.Errorf("error %v has no file position", err)
			}
		})
	}
}

func TestParseRulesHugeWindow(t *testing.T) {
	_, err := parse(t, "rate_limits:\n  - max_calls: 1\n    window_seconds: 10000000000\n")
	if err == nil || !strings.Contains(err.Error(), "window_seconds 10000000000 is too long; the most is 3153600000 seconds (100 years)") {
		t.Fatalf("err = %v", err)
	}
}

func TestParsedEffectStarMeansAny(t *testing.T) {
	rules, err := parse(t, "rate_limits:\n  - effect: \"*\"\n    max_calls: 1\n    window_seconds: 60\n")
	if err != nil {
		t.Fatal(err)
	}
	if rules[0].Effect != "" {
		t.Errorf("Effect = %q, want any", rules[0].Effect)
	}
}
