package grants_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/grants/grantstest"
)

func TestConformanceMemory(t *testing.T) {
	grantstest.RunConformance(t, func(*testing.T) grants.Store { return grants.NewMemory() })
}

func TestMemoryReturnsCopies(t *testing.T) {
	ctx := context.Background()
	m := grants.NewMemory()
	g, err := m.Create(ctx, grants.Grant{ID: "g", ExpiresAt: time.Unix(2000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	g.Tool = "changed"
	got, _, _ := m.Get(ctx, "g")
	got.Revoked = true
	again, _, _ := m.Get(ctx, "g")
	if again.Tool != "" || again.Revoked {
		t.Fatalf("stored grant changed through a returned copy: %+v", again)
	}
}

// BenchmarkConsume measures a lookup that has to skip 99 grants of other
// agents before it finds the matching one, the realistic worst case for the
// linear scan.
func BenchmarkConsume(b *testing.B) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	m := grants.NewMemory()
	for i := range 100 {
		agentID := fmt.Sprintf("agent-%d", i)
		if _, err := m.Create(ctx, grants.Grant{
			AgentID: agentID, Tool: "api:*", Effect: tollgate.EffectWrite,
			ExpiresAt: now.Add(time.Hour), CreatedAt: now.Add(time.Duration(i) * time.Second),
		}); err != nil {
			b.Fatal(err)
		}
	}
	agent := tollgate.Agent{ID: "agent-99"}
	req := tollgate.ToolRequest{Tool: "api:write_file", Action: "write", ResourceType: "file", Effect: tollgate.EffectWrite}
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := m.Consume(ctx, agent, req, now); !found || err != nil {
			b.Fatal(found, err)
		}
	}
}
