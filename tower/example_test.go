package tower_test

import (
	"context"
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
	"github.com/tollgate-go/tollgate/tower"
)

func Example() {
	pol, err := policy.Parse("policy.yaml", []byte(`
rules:
  - id: allow_reads
    effect: read
    decision: ALLOW
  - id: deny_default
    decision: DENY
    reason: "Only reads are allowed"
`))
	if err != nil {
		panic(err)
	}
	man, err := registry.Parse("manifest.yaml", []byte(`
version: "1.0.0"
tools:
  "api:get_ticket": {effect: read, resource_type: ticket}
  "api:delete_ticket": {effect: delete, resource_type: ticket}
`))
	if err != nil {
		panic(err)
	}
	printOutcome := audit.SinkFunc(func(_ context.Context, e *audit.Event) error {
		fmt.Printf("  audit: %s %s %s\n", e.ToolRequest.Tool, e.Decision.Type, e.Outcome)
		return nil
	})
	t, err := tower.New(&tower.Config{Policy: pol, Manifest: man}, tower.WithAuditSink(printOutcome))
	if err != nil {
		panic(err)
	}

	agent := tollgate.Agent{ID: "support-bot", Version: "1.0", Owner: "support"}
	intent := tollgate.Intent{Action: "triage", Reason: "work the queue"}
	for _, tool := range []string{"api:get_ticket", "api:delete_ticket"} {
		// The caller's claimed effect is ignored: the manifest decides.
		req := tollgate.ToolRequest{Tool: tool, Effect: tollgate.EffectRead, Params: tollgate.Params{{Key: "id", Value: "T-1"}}}
		res, err := t.Execute(context.Background(), agent, intent, req, func(context.Context) (any, error) {
			return "done", nil
		})
		fmt.Println(tool, res, tollgate.ReasonOf(err), err)
	}
	// Output:
	//   audit: api:get_ticket ALLOW authorized
	//   audit: api:get_ticket ALLOW executed
	// api:get_ticket done  <nil>
	//   audit: api:delete_ticket DENY blocked
	// api:delete_ticket <nil> POLICY_DENIED Tool call denied: Only reads are allowed
}
