package grants_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	store := grants.NewMemory()

	// Let agent-1 write through any api:* tool, twice, for the next hour.
	g, _ := store.Create(ctx, grants.Grant{
		ID: "grant-1", AgentID: "agent-1", Effect: tollgate.EffectWrite, Tool: "api:*",
		ExpiresAt: now.Add(time.Hour), GrantedBy: "alice", Reason: "migration window", MaxUses: 2,
	})

	agent := tollgate.Agent{ID: "agent-1"}
	req := tollgate.ToolRequest{Tool: "api:write_file", Action: "write", ResourceType: "file", Effect: tollgate.EffectWrite}
	for _, at := range []time.Time{now, g.ExpiresAt, now, now} {
		used, found, err := store.Consume(ctx, agent, req, at)
		fmt.Println(found, used.ID, used.Uses, err)
	}
	// Output:
	// true grant-1 1 <nil>
	// false  0 <nil>
	// true grant-1 2 <nil>
	// false  0 <nil>
}
