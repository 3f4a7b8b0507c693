package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := identity.FromContext(ctx); ok {
		t.Fatal("empty context carries an agent")
	}
	// A value stored under another key with the same type is not an agent.
	type agentKey struct{}
	ctx = context.WithValue(ctx, agentKey{}, tollgate.Agent{ID: "impostor"})
	if a, ok := identity.FromContext(ctx); ok {
		t.Fatalf("FromContext read a foreign key: %+v", a)
	}
	ctx = identity.NewContext(ctx, tollgate.Agent{ID: "demo-agent"})
	if a, ok := identity.FromContext(ctx); !ok || a.ID != "demo-agent" {
		t.Fatalf("FromContext = %+v, %v", a, ok)
	}
}

// The agent's context is an ordinary parent: values, deadlines and
// cancellation pass through it, and a nearer agent wins.
func TestContextIsTransparent(t *testing.T) {
	type otherKey struct{}
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), otherKey{}, "v"))
	ctx := identity.NewContext(parent, tollgate.Agent{ID: "outer"})
	child, stop := context.WithCancel(identity.NewContext(ctx, tollgate.Agent{ID: "inner"}))
	defer stop()
	if a, _ := identity.FromContext(child); a.ID != "inner" {
		t.Errorf("agent = %q, want the nearest one", a.ID)
	}
	if a, _ := identity.FromContext(ctx); a.ID != "outer" {
		t.Errorf("outer agent = %q", a.ID)
	}
	if child.Value(otherKey{}) != "v" {
		t.Error("parent value lost")
	}
	cause := errors.New("client left")
	cancel(cause)
	<-child.Done()
	if context.Cause(child) != cause {
		t.Errorf("cause = %v", context.Cause(child))
	}
}

// Every gated call puts its agent in a context: one allocation.
func TestNewContextAllocatesOnce(t *testing.T) {
	a := tollgate.Agent{ID: "demo-agent", Version: "1", Owner: "team"}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { identity.NewContext(ctx, a) }); n > 1 {
		t.Errorf("NewContext allocates %v times, want 1", n)
	}
}
