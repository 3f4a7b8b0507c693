package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

func Example() {
	dir, err := os.MkdirTemp("", "tollgate-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tollgate.db")
	ctx := context.Background()
	now := time.Now()
	agent := tollgate.Agent{ID: "support-bot"}
	call := tollgate.ToolRequest{Tool: "tickets:close", Action: "close", Effect: tollgate.EffectWrite,
		Params: tollgate.Params{{Key: "ticket", Value: "T-42"}}}

	db, err := sqlitestore.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	// A grant: the bot may close tickets for an hour, at most twice.
	if _, err := db.Grants().Create(ctx, grants.Grant{
		AgentID: agent.ID, Tool: "tickets:*", ExpiresAt: now.Add(time.Hour), MaxUses: 2, GrantedBy: "alice",
	}); err != nil {
		log.Fatal(err)
	}
	g, _, _ := db.Grants().Consume(ctx, agent, call, now)
	fmt.Println("grant uses:", g.Uses)
	// A deferred approval, decided later by a human.
	req := approvals.Request{Agent: agent, ToolRequest: call, ExpiresAt: now.Add(time.Hour)}
	id, err := db.Approvals().Create(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	db.Close() // a restart

	db, err = sqlitestore.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	g, _, _ = db.Grants().Consume(ctx, agent, call, now)
	fmt.Println("after restart, grant uses:", g.Uses)
	_, found, _ := db.Grants().Consume(ctx, agent, call, now)
	fmt.Println("third use allowed:", found)

	pending, _ := db.Approvals().List(ctx, true)
	fmt.Println("pending approvals:", len(pending))
	if err := db.Approvals().Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "bob", At: now}); err != nil {
		log.Fatal(err)
	}
	binding := approvals.BindingHash(req.Agent, req.Intent, req.ToolRequest)
	fmt.Println("retry runs:", db.Approvals().Consume(ctx, id, binding, now) == nil)
	err = db.Approvals().Consume(ctx, id, binding, now)
	fmt.Println("second retry refused as used:", errors.Is(err, approvals.ErrUsed))
	// Output:
	// grant uses: 1
	// after restart, grant uses: 2
	// third use allowed: false
	// pending approvals: 1
	// retry runs: true
	// second retry refused as used: true
}
