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
	return &agentContext{Context: ctx, agent: a}
}

// FromContext returns the verified agent stored by NewContext.
func FromContext(ctx context.Context) (tollgate.Agent, bool) {
	a, ok := ctx.Value(agentKey{}).(*tollgate.Agent)
	if !ok {
		return tollgate.Agent{}, false
	}
	return *a, true
}

// agentContext is context.WithValue with the Agent held inline: one
// allocation per call where WithValue takes two (it boxes the Agent), and
// every gated call makes one.
type agentContext struct {
	context.Context
	agent tollgate.Agent
}

func (c *agentContext) Value(key any) any {
	if key == (agentKey{}) {
		return &c.agent
	}
	return c.Context.Value(key)
}
