package redisstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/redisstore"
)

// Key names are useful for Redis ACLs (~tollgate:* and &tollgate:*) and for
// looking at state with redis-cli. Naming keys needs no server, so this
// example runs.
func ExampleWithPrefix() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // connects only when used
	defer client.Close()
	s := redisstore.New(client, redisstore.WithPrefix("prod:"))
	fmt.Println(s.GrantKey("g-1"))
	fmt.Println(s.ApprovalKey("a-1"))
	fmt.Println(s.DecisionChannel("a-1"))
	fmt.Println(s.ReplayKey("jti-1"))
	// Output:
	// prod:{grants}:grant:g-1
	// prod:{approvals}:request:a-1
	// prod:approvals:decided:a-1
	// prod:jti:jti-1
}

// Invalid input is refused before anything is sent to Redis.
func ExampleGrantStore_Create_invalid() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // connects only when used
	defer client.Close()
	s := redisstore.New(client)
	_, err := s.Grants().Create(context.Background(), grants.Grant{AgentID: "agent-1", Tool: "api:fetch"})
	fmt.Println(err)
	// Output: grants: invalid grant: ExpiresAt is required; set when the grant should stop working
}

// Wiring the stores into a server. This example needs a running Redis, so
// it is compiled but not run (it has no Output comment).
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	store := redisstore.New(client, redisstore.WithPrefix("tollgate:prod:"))

	ctx := context.Background()
	g, err := store.Grants().Create(ctx, grants.Grant{
		AgentID: "agent-1", Tool: "api:*", MaxUses: 20,
		ExpiresAt: time.Now().Add(time.Hour), GrantedBy: "alice", Reason: "incident 42",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Every replica consumes from the same Redis: at most 20 calls run.
	used, found, err := store.Grants().Consume(ctx, tollgate.Agent{ID: "agent-1"},
		tollgate.ToolRequest{Tool: "api:fetch"}, time.Now())
	fmt.Println(g.ID == used.ID, found, err)

	// store.Approvals() and store.ReplayCache() plug into the approval
	// queue and the JWT verifier (identity.WithReplayCache) the same way.
}
