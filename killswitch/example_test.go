package killswitch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/killswitch"
)

func Example() {
	store, _ := killswitch.NewMemory()
	scope, _ := killswitch.ParseScope("agent:support-bot")
	sw, _ := store.Set(context.Background(), killswitch.Switch{
		ID: "k1", Scope: scope, Reason: "leaking tickets", SetBy: "alice",
		ExpiresAt: time.Now().Add(time.Hour),
	})

	m, _ := store.Matcher() // what the pipeline reads on every call
	if hit, ok := m.Match(tollgate.Agent{ID: "support-bot"}, "tickets:read", time.Now()); ok {
		fmt.Println("refused by", hit.ID, hit.Scope, "-", hit.Reason)
	}
	_, ok := m.Match(tollgate.Agent{ID: "billing-bot"}, "tickets:read", time.Now())
	fmt.Println("billing-bot refused:", ok)
	_, ok = m.Match(tollgate.Agent{ID: "support-bot"}, "tickets:read", sw.ExpiresAt)
	fmt.Println("support-bot refused after expiry:", ok)
	// Output:
	// refused by k1 agent:support-bot - leaking tickets
	// billing-bot refused: false
	// support-bot refused after expiry: false
}
