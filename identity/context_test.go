package identity_test

import (
	"context"
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
