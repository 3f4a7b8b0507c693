package approvals_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

func ExampleRequestHash() {
	agent := tollgate.Agent{ID: "test-bot", Version: "1.0.0"}
	intent := tollgate.Intent{Action: "demo"}
	req := tollgate.ToolRequest{
		Tool: "mcp", Action: "read_file", ResourceType: "file", Effect: tollgate.EffectRead,
		Params: tollgate.Params{{Key: "path", Value: "test.txt"}},
	}
	fmt.Println(approvals.RequestHash(agent, intent, req))
	// Output: 6198dfa749042d80e2710d405dc3b26be2ca675fa8801eb5f765cf7ec22991e3
}

func ExampleMemoryStore() {
	ctx := context.Background()
	now := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	store := approvals.NewMemoryStore()

	r := approvals.Request{
		ID:          "approval-1",
		Agent:       tollgate.Agent{ID: "agent-1", Version: "1.0.0", Owner: "ops"},
		Intent:      tollgate.Intent{Action: "cleanup", Reason: "stale data"},
		ToolRequest: tollgate.ToolRequest{Tool: "api:delete_resource", Action: "delete", Effect: tollgate.EffectDelete},
		ExpiresAt:   now.Add(time.Hour),
	}
	id, _ := store.Create(ctx, r)
	fmt.Println(store.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: now}))
	fmt.Println(store.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeDenied, By: "bob", At: now}))

	binding := approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
	fmt.Println(store.Consume(ctx, id, binding, now.Add(time.Minute)))
	fmt.Println(store.Consume(ctx, id, binding, now.Add(time.Minute)))
	// Output:
	// <nil>
	// approvals: request already decided: "approval-1" was approved by alice
	// <nil>
	// approvals: approval already used: "approval-1" was used at 2026-02-05T12:01:00Z
}

func ExampleAutoApproveReads() {
	a := approvals.AutoApproveReads()
	for _, e := range []tollgate.Effect{tollgate.EffectRead, tollgate.EffectWrite} {
		res, _ := a.Approve(context.Background(), approvals.Request{ToolRequest: tollgate.ToolRequest{Effect: e}})
		fmt.Println(e, res.Outcome)
	}
	// Output:
	// read approved
	// write denied
}
