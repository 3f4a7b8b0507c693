package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/redistest"
	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/killswitch/killswitchtest"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/tower"
)

func killStore(t *testing.T, client redis.UniversalClient, prefix string, opts ...killswitch.Option) *KillSwitchStore {
	t.Helper()
	ks, err := New(client, WithPrefix(prefix)).KillSwitches(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// running starts ks.Run for the test and waits for its first read.
func running(t *testing.T, ks *KillSwitchStore) *KillSwitchStore {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ks.Run(ctx, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := ks.Matcher(); err == nil {
			return ks
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not read the switches within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConformanceRedisKillSwitches(t *testing.T) {
	srv := redistest.Start(t)
	a := srv.Client(t)
	killswitchtest.RunConformance(t, func(t *testing.T) killswitch.Store {
		ks := killStore(t, a, testPrefix(t))
		if err := ks.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
		return ks
	})
}

// replicaTower is one replica of a gated service: a Tower that allows
// everything unless a kill switch stops the call, with its own Redis
// client and kill switch store.
func replicaTower(t *testing.T, ks *KillSwitchStore, now func() time.Time) *tower.Tower {
	t.Helper()
	allow := policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision {
		return tollgate.Decision{Type: tollgate.Allow, Reason: "allowed", PolicyID: "all"}
	})
	tw, err := tower.New(&tower.Config{Policy: allow}, tower.WithKillSwitches(ks), tower.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

func callAs(tw *tower.Tower, agentID string) error {
	_, err := tw.Execute(context.Background(), tollgate.Agent{ID: agentID}, tollgate.Intent{Action: "a"},
		tollgate.ToolRequest{Tool: "tickets:read", Action: "read"}, func(context.Context) (any, error) { return "ok", nil })
	return err
}

// The acceptance test: a switch set on replica A refuses on
// replica B within 1 s (two Towers, one real redis-server), and a switch
// that expires lifts itself on both.
func TestKillSwitchReachesAnotherReplicaWithin1s(t *testing.T) {
	srv := redistest.Start(t)
	prefix := testPrefix(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	// Resyncs every hour: only the pub/sub announcement can be what
	// carries the switch to B in time.
	opts := []killswitch.Option{killswitch.WithResyncInterval(time.Hour), killswitch.WithMaxStaleness(2 * time.Hour)}
	storeA := running(t, killStore(t, srv.Client(t), prefix, opts...))
	storeB := running(t, killStore(t, srv.Client(t), prefix, opts...))
	towerA, towerB := replicaTower(t, storeA, clock), replicaTower(t, storeB, clock)
	if err := callAs(towerB, "support-bot"); err != nil {
		t.Fatalf("before the switch: %v", err)
	}

	set := time.Now()
	sw, err := storeA.Set(t.Context(), killswitch.Switch{
		Scope: killswitch.Agent("support-bot"), Reason: "leaking tickets", SetBy: "alice",
		SetAt: clock(), ExpiresAt: clock().Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := tollgate.ReasonOf(callAs(towerA, "support-bot")); got != tollgate.ReasonKilled {
		t.Fatalf("replica A right after Set: %q, want KILLED", got)
	}
	deadline := set.Add(time.Second)
	for tollgate.ReasonOf(callAs(towerB, "support-bot")) != tollgate.ReasonKilled {
		if time.Now().After(deadline) {
			t.Fatalf("replica B still lets support-bot through 1s after switch %s was set on A", sw.ID)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("replica B refused %v after the switch was set on A", time.Since(set).Round(time.Millisecond))
	if err := callAs(towerB, "billing-bot"); err != nil {
		t.Errorf("an agent no switch covers: %v", err)
	}

	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	for name, tw := range map[string]*tower.Tower{"A": towerA, "B": towerB} {
		if err := callAs(tw, "support-bot"); err != nil {
			t.Errorf("replica %s after the switch expired: %v, want the call to run", name, err)
		}
	}
}

// A lift on one replica reaches the other the same way.
func TestKillSwitchLiftReachesAnotherReplica(t *testing.T) {
	srv := redistest.Start(t)
	prefix := testPrefix(t)
	opts := []killswitch.Option{killswitch.WithResyncInterval(time.Hour), killswitch.WithMaxStaleness(2 * time.Hour)}
	storeA := running(t, killStore(t, srv.Client(t), prefix, opts...))
	storeB := running(t, killStore(t, srv.Client(t), prefix, opts...))
	towerB := replicaTower(t, storeB, time.Now)
	sw, err := storeA.Set(t.Context(), killswitch.Switch{Scope: killswitch.Global(), Reason: "all stop"})
	if err != nil {
		t.Fatal(err)
	}
	waitReason(t, towerB, tollgate.ReasonKilled)
	if _, found, err := storeA.Lift(t.Context(), sw.ID); !found || err != nil {
		t.Fatalf("Lift: %v %v", found, err)
	}
	waitReason(t, towerB, "")
}

func waitReason(t *testing.T, tw *tower.Tower, want tollgate.Reason) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for tollgate.ReasonOf(callAs(tw, "anyone")) != want {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 1s", want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A replica that cannot reach Redis fails closed once its state is older
// than the staleness bound: a stalled connection (CLIENT PAUSE) and a
// stopped server (nothing listening) alike.
func TestKillSwitchStaleReplicaFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	// A short read timeout stands in for the production rule: the client's
	// timeouts must be well under the staleness bound.
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, ReadTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	ks := killStore(t, client, testPrefix(t), killswitch.WithClock(clock),
		killswitch.WithResyncInterval(time.Second), killswitch.WithMaxStaleness(3*time.Second))
	if err := ks.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	tw := replicaTower(t, ks, clock)
	if err := callAs(tw, "a"); err != nil {
		t.Fatalf("fresh: %v", err)
	}

	admin := srv.Client(t)
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Second)
	if err := ks.Sync(t.Context()); err == nil {
		t.Fatal("Sync succeeded through a paused server")
	}
	if err := callAs(tw, "a"); err != nil {
		t.Fatalf("within the bound: %v, want the last state to answer", err)
	}
	advance(1500 * time.Millisecond)
	err := callAs(tw, "a")
	var te *tollgate.Error
	if !errors.As(err, &te) || te.Reason != tollgate.ReasonInternal || te.Stage != tollgate.StageKillSwitch || !errors.Is(err, killswitch.ErrStale) {
		t.Fatalf("past the bound: %v, want INTERNAL at stage killswitch wrapping ErrStale", err)
	}

	// Once Redis answers again, the next read makes the state fresh.
	deadline := time.Now().Add(5 * time.Second)
	for ks.Sync(t.Context()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Sync still failing 5s after the pause")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := callAs(tw, "a"); err != nil {
		t.Errorf("after recovery: %v", err)
	}

	// Nothing listening at all: never confirmed, so refused from the start.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	ksDead := killStore(t, dead, testPrefix(t))
	if err := ksDead.Sync(t.Context()); err == nil {
		t.Fatal("Sync against a stopped server succeeded")
	}
	if got := tollgate.ReasonOf(callAs(replicaTower(t, ksDead, time.Now), "a")); got != tollgate.ReasonInternal {
		t.Errorf("replica that never reached Redis: %q, want INTERNAL", got)
	}
}

// A record this build cannot read keeps the previous state rather than
// lifting the switch it stood for.
func TestKillSwitchUnreadableRecord(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ks := killStore(t, c, testPrefix(t))
	if _, err := ks.Set(t.Context(), killswitch.Switch{ID: "k", Scope: killswitch.Global(), Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(t.Context(), ks.s.keys.killSwitches, "k", `{"id":"k","scope":"planet:earth"}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := ks.Sync(t.Context()); err == nil {
		t.Fatal("Sync read an unknown scope without an error")
	}
	if m, err := ks.Matcher(); err != nil || m.Len() != 1 {
		t.Fatalf("Matcher = %d switches, %v; want the previous state", m.Len(), err)
	}
}
