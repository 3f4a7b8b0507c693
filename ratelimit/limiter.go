package ratelimit

import (
	"context"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Limiter decides whether an agent may make a tool call now. An allowed call
// is counted against every limit that applies to it; a refused call is not
// counted at all.
//
// The error is for limiters backed by shared state (a store that cannot be
// reached); callers must treat an error as a refusal. The in-memory
// SlidingWindow never returns one.
type Limiter interface {
	Allow(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest) (Result, error)
}

// LimiterFunc adapts a function to the Limiter interface.
type LimiterFunc func(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest) (Result, error)

// Allow calls f.
func (f LimiterFunc) Allow(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest) (Result, error) {
	return f(ctx, agent, req)
}

// Unlimited allows every call. It is the Limiter to use when no rate limits
// are configured.
var Unlimited Limiter = LimiterFunc(func(context.Context, tollgate.Agent, tollgate.ToolRequest) (Result, error) {
	return allowed, nil
})

// Result is a Limiter's verdict on one call.
type Result struct {
	Allowed bool
	// Reason says why the call was refused, in Tollgate's words; empty when
	// Allowed.
	Reason string
	// RetryAfter is how long until the refusing rule admits a call again
	// (its oldest counted call leaves the window); zero when Allowed.
	RetryAfter time.Duration
	// Rule is the index, in the rule list, of the rule that refused the call;
	// -1 when Allowed (or when a Limiter other than SlidingWindow refuses
	// for a reason of its own).
	Rule int
}

var allowed = Result{Allowed: true, Rule: -1}
