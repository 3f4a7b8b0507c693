package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/ratelimit"
)

func ExampleNewSlidingWindow() {
	// A fixed clock for the example; production code leaves the default.
	now := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	limiter, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{
		{AgentID: "*", Tool: "*", MaxCalls: 5, Window: time.Minute},
		{AgentID: "*", Tool: "*", Effect: tollgate.EffectWrite, MaxCalls: 1, Window: time.Minute},
	}, ratelimit.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	agent := tollgate.Agent{ID: "demo-agent"}
	write := tollgate.ToolRequest{Tool: "api:write_file", Effect: tollgate.EffectWrite}
	read := tollgate.ToolRequest{Tool: "api:fetch_data", Effect: tollgate.EffectRead}

	for _, req := range []tollgate.ToolRequest{write, write, write, read} {
		res, _ := limiter.Allow(context.Background(), agent, req)
		if res.Allowed {
			fmt.Println(req.Tool, "allowed")
			continue
		}
		fmt.Printf("%s refused: %s (retry after %.1fs)\n", req.Tool, res.Reason, res.RetryAfter.Seconds())
	}
	// Output:
	// api:write_file allowed
	// api:write_file refused: Rate limit exceeded: 1/1 calls in 60s window (agent=demo-agent, tool=*, effect=write) (retry after 60.0s)
	// api:write_file refused: Rate limit exceeded: 1/1 calls in 60s window (agent=demo-agent, tool=*, effect=write) (retry after 60.0s)
	// api:fetch_data allowed
}

func ExampleParseRules() {
	src := `
rate_limits:
  - tool: "mcp:*"
    max_calls: 2
    window_seconds: 60
  - effect: WRITE
    max_calls: 1
    window_seconds: 60
`
	doc, err := yamlx.Parse("policy.yaml", []byte(src))
	if err != nil {
		panic(err)
	}
	pairs, _ := doc.Mapping(doc.Root, "the policy file")
	_, err = ratelimit.ParseRules(doc, pairs[0].ValueNode)
	fmt.Println(err)
	// Output:
	// policy.yaml:6:13: rate limit rule 2: effect "WRITE" is not an effect; use one of read, write, delete, notify, unknown (lower-case), or "*" for any effect
}
