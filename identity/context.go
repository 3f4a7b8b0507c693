package identity

import (
	"context"

	"github.com/tollgate-go/tollgate"
)

// agentKey is unexported so that only this package can place a verified
// Agent in a context.
type agentKey struct{}

// NewContext returns a copy of ctx carrying the verified agent.
func NewContext(ctx context.Context, a tollgate.Agent) context.Context {
	return context.WithValue(ctx, agentKey{}, a)
}

// FromContext returns the verified agent stored by NewContext.
func FromContext(ctx context.Context) (tollgate.Agent, bool) {
	a, ok := ctx.Value(agentKey{}).(tollgate.Agent)
	return a, ok
}
