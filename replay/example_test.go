package replay_test

import (
	"fmt"
	"strings"

	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/replay"
)

func Example() {
	// Two calls from a Tollgate 1.4 log: a read and a write, both allowed.
	log := `{"correlation_id": "r1", "agent": {"agent_id": "bot"}, "tool_request": {"tool": "api:read", "effect": "read", "manifest_version": "1.0"}, "decision": {"decision": "ALLOW", "policy_id": "allow_all"}, "outcome": "executed"}
{"correlation_id": "w1", "agent": {"agent_id": "bot"}, "tool_request": {"tool": "api:write", "effect": "write", "manifest_version": "1.0"}, "decision": {"decision": "ALLOW", "policy_id": "allow_all"}, "outcome": "executed"}
`
	candidate, err := policy.Parse("candidate.yaml", []byte(`
rules:
  - id: allow_reads
    effect: read
    decision: ALLOW
  - id: ask_writes
    effect: write
    decision: ASK
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := replay.New(candidate).Run(strings.NewReader(log), func(c *replay.Call) error {
		if c.Status == replay.Changed {
			fmt.Printf("%s %s: %s (%s) → %s (%s)\n", c.CorrelationID, c.Tool, c.Old.Decision, c.Old.Rule, c.New.Decision, c.New.Rule)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d calls, %d changed\n", s.Total, s.Changed)
	// Output:
	// w1 api:write: ALLOW (allow_all) → ASK (ask_writes)
	// 2 calls, 1 changed
}
