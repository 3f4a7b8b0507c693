package killswitch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/killswitch"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// backend is a LoadFunc whose contents and failures tests set.
type backend struct {
	mu   sync.Mutex
	list []killswitch.Switch
	err  error
	hits int
}

func (b *backend) load(context.Context) ([]killswitch.Switch, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hits++
	return append([]killswitch.Switch(nil), b.list...), b.err
}

func (b *backend) put(list []killswitch.Switch, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list, b.err = list, err
}

func newMirror(t *testing.T, b *backend, clock *fakeClock) *killswitch.Mirror {
	t.Helper()
	m, err := killswitch.NewMirror(b.load, killswitch.WithClock(clock.Now),
		killswitch.WithResyncInterval(time.Second), killswitch.WithMaxStaleness(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A Mirror that cannot confirm its state within the bound fails closed,
// and recovers with the next read that succeeds.
func TestMirrorFailsClosedWhenStale(t *testing.T) {
	clock := &fakeClock{now: t0}
	b := &backend{}
	m := newMirror(t, b, clock)
	if _, err := m.Matcher(); !errors.Is(err, killswitch.ErrStale) {
		t.Fatalf("before the first read: %v, want ErrStale", err)
	}
	b.put([]killswitch.Switch{{ID: "k", Scope: killswitch.Agent("a"), Reason: "r", SetAt: t0}}, nil)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.put(nil, errors.New("connection refused"))
	clock.Add(3 * time.Second)
	if err := m.Sync(t.Context()); err == nil {
		t.Fatal("Sync hid the backend's failure")
	}
	mt, err := m.Matcher()
	if err != nil {
		t.Fatalf("at the bound: %v, want the last state", err)
	}
	if _, ok := mt.Match(tollgate.Agent{ID: "a"}, "t", clock.Now()); !ok {
		t.Error("the last state lost its switch")
	}
	clock.Add(time.Millisecond)
	if _, err := m.Matcher(); !errors.Is(err, killswitch.ErrStale) {
		t.Fatalf("past the bound: %v, want ErrStale", err)
	}
	b.put(nil, nil)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if mt, err := m.Matcher(); err != nil || mt.Len() != 0 {
		t.Fatalf("after recovering: %v, %d switches; want the new, empty state", err, mt.Len())
	}
}

// A backend returning a switch it cannot have written keeps the old state
// (which then grows stale) rather than dropping the switch silently.
func TestMirrorKeepsStateOnUnreadableSwitch(t *testing.T) {
	clock := &fakeClock{now: t0}
	b := &backend{list: []killswitch.Switch{{ID: "k", Scope: killswitch.Global(), Reason: "r"}}}
	m := newMirror(t, b, clock)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.put([]killswitch.Switch{{ID: "bad", Scope: killswitch.Scope{Kind: "?"}}}, nil)
	if err := m.Sync(t.Context()); err == nil {
		t.Fatal("Sync accepted an unreadable switch")
	}
	if mt, _ := m.Matcher(); mt.Len() != 1 {
		t.Errorf("state has %d switches, want the previous 1", mt.Len())
	}
}

// Run reads at once, then on Wake without waiting for the resync tick.
func TestMirrorRunWakes(t *testing.T) {
	b := &backend{}
	m, err := killswitch.NewMirror(b.load, killswitch.WithResyncInterval(time.Hour), killswitch.WithMaxStaleness(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- m.Run(ctx, nil) }()
	waitFor(t, func() bool { _, err := m.Matcher(); return err == nil })
	b.put([]killswitch.Switch{{ID: "k", Scope: killswitch.Global(), Reason: "r"}}, nil)
	m.Wake()
	waitFor(t, func() bool { mt, _ := m.Matcher(); return mt.Len() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewMirrorRefusesBadOptions(t *testing.T) {
	load := (&backend{}).load
	for _, opts := range [][]killswitch.Option{
		{killswitch.WithResyncInterval(0)},
		{killswitch.WithMaxStaleness(time.Second), killswitch.WithResyncInterval(time.Second)},
		{killswitch.WithClock(nil)},
	} {
		if _, err := killswitch.NewMirror(load, opts...); err == nil {
			t.Errorf("NewMirror accepted %d bad options", len(opts))
		}
	}
	if _, err := killswitch.NewMirror(nil); err == nil {
		t.Error("NewMirror accepted a nil LoadFunc")
	}
}
