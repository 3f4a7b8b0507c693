package ratelimit_test

import (
	"errors"
	"os"
	"testing"

	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/ratelimit"
)

// FuzzParseRules checks that ParseRules never panics, that every error it
// returns carries a file position, and that every rule set it accepts is
// accepted by NewSlidingWindow and can be evaluated.
func FuzzParseRules(f *testing.F) {
	policy, err := os.ReadFile("testdata/policy_with_limits.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(policy),
		"rate_limits: []\n",
		"rate_limits:\n",
		"rate_limits:\n  - max_calls: 5\n    window_seconds: 60\n",
		"rate_limits:\n  - {agent_id: bot, tool: 'mcp:*', effect: write, max_calls: 1, window_seconds: 0.5}\n",
		"rate_limits:\n  - effect: WRITE\n    max_calls: 1\n    window_seconds: 60\n",
		"rate_limits:\n  - max_calls: -1\n    window_seconds: 1:30\n",
		"rate_limits:\n  - &r {max_calls: 1, window_seconds: .inf}\n  - *r\n",
		"rate_limits: {max_calls: 1}\n",
		"rate_limits:\n  - [1, 2]\n  - ~\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := yamlx.Parse("fuzz.yaml", []byte(src))
		if err != nil || doc.Root == nil {
			return
		}
		var node = doc.Root
		if pairs, err := doc.Mapping(doc.Root, "root"); err == nil {
			for _, p := range pairs {
				if p.Key == "rate_limits" {
					node = p.ValueNode
				}
			}
		}
		rules, err := ratelimit.ParseRules(doc, node)
		if err != nil {
			var ye *yamlx.Error
			if !errors.As(err, &ye) || ye.File != "fuzz.yaml" {
				t.Fatalf("error without a file position: %v", err)
			}
			return
		}
		l, err := ratelimit.NewSlidingWindow(rules)
		if err != nil {
			t.Fatalf("ParseRules accepted rules NewSlidingWindow refuses: %v", err)
		}
		for range 3 {
			allow(t, l, "agent", call("mcp:tool", "write"))
		}
	})
}
