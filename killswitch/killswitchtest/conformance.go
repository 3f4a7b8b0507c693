package killswitchtest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/killswitch"
)

// RunConformance runs the suite as subtests of t. newStore must return a
// new, empty store each time it is called, whose Matcher is ready (a
// Mirror-based store has synced once); it is called once per subtest.
func RunConformance(t *testing.T, newStore func(t *testing.T) killswitch.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(&suite{t: t, store: newStore(t), ctx: t.Context(), now: anchor()})
		})
	}
}

var cases = []struct {
	name string
	run  func(*suite)
}{
	{"SetAssignsUUID", (*suite).setAssignsUUID},
	{"SetRefusesDuplicateID", (*suite).setRefusesDuplicate},
	{"SetRefusesInvalid", (*suite).setRefusesInvalid},
	{"SetFillsSetAt", (*suite).setFillsSetAt},
	{"RoundTrip", (*suite).roundTrip},
	{"EmptyMatchesNothing", (*suite).emptyMatchesNothing},
	{"ScopesMatch", (*suite).scopesMatch},
	{"ExpiredSwitchLiftsItself", (*suite).expiredLiftsItself},
	{"ListInForceInOrder", (*suite).listInOrder},
	{"Lift", (*suite).lift},
	{"ConcurrentSets", (*suite).concurrentSets},
	{"CanceledContext", (*suite).canceledContext},
}

// anchor is the "now" of every case: whole seconds (so backends storing
// coarser times round-trip exactly) and ahead of the real clock, so that
// no store forgets a case's switches as expired by its own clock.
func anchor() time.Time { return time.Now().Truncate(time.Second).Add(time.Hour) }

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

type suite struct {
	t     *testing.T
	store killswitch.Store
	ctx   context.Context
	now   time.Time
}

func (s *suite) set(sw killswitch.Switch) killswitch.Switch {
	s.t.Helper()
	if sw.SetAt.IsZero() {
		sw.SetAt = s.now
	}
	if sw.Reason == "" {
		sw.Reason = "conformance"
	}
	got, err := s.store.Set(s.ctx, sw)
	if err != nil {
		s.t.Fatalf("Set(%+v): %v", sw, err)
	}
	return got
}

// match returns the id of the switch that stops agent calling tool at at,
// "" for none.
func (s *suite) match(agent tollgate.Agent, tool string, at time.Time) string {
	s.t.Helper()
	m, err := s.store.Matcher()
	if err != nil {
		s.t.Fatalf("Matcher: %v", err)
	}
	sw, ok := m.Match(agent, tool, at)
	if ok != (sw.ID != "") {
		s.t.Fatalf("Match returned ok=%v with switch %q", ok, sw.ID)
	}
	return sw.ID
}

func (s *suite) list(at time.Time) []killswitch.Switch {
	s.t.Helper()
	list, err := s.store.List(s.ctx, at)
	if err != nil {
		s.t.Fatalf("List: %v", err)
	}
	return list
}

func ids(list []killswitch.Switch) []string {
	out := make([]string, len(list))
	for i, sw := range list {
		out[i] = sw.ID
	}
	return out
}

func (s *suite) setAssignsUUID() {
	a := s.set(killswitch.Switch{Scope: killswitch.Agent("a")})
	b := s.set(killswitch.Switch{Scope: killswitch.Agent("a")})
	if !uuidV4.MatchString(a.ID) || !uuidV4.MatchString(b.ID) || a.ID == b.ID {
		s.t.Errorf("ids %q, %q: want two distinct UUIDv4", a.ID, b.ID)
	}
}

func (s *suite) setRefusesDuplicate() {
	s.set(killswitch.Switch{ID: "k1", Scope: killswitch.Global()})
	_, err := s.store.Set(s.ctx, killswitch.Switch{ID: "k1", Scope: killswitch.Agent("other"), Reason: "r", SetAt: s.now})
	if !errors.Is(err, killswitch.ErrExists) {
		s.t.Fatalf("second Set with ID k1: %v, want ErrExists", err)
	}
	if list := s.list(s.now); len(list) != 1 || list[0].Scope != killswitch.Global() {
		s.t.Errorf("after duplicate: %+v, want the first switch only", list)
	}
}

func (s *suite) setRefusesInvalid() {
	for _, sw := range []killswitch.Switch{
		{Scope: killswitch.Scope{Kind: "everything"}, Reason: "r"},
		{Scope: killswitch.Agent(""), Reason: "r"},
		{Scope: killswitch.Tool("a*b"), Reason: "r"},
		{Scope: killswitch.Global(), Reason: "  "},
		{Scope: killswitch.Global(), Reason: "r", SetAt: s.now, ExpiresAt: s.now},
	} {
		if _, err := s.store.Set(s.ctx, sw); !errors.Is(err, killswitch.ErrInvalidSwitch) {
			s.t.Errorf("Set(%+v) = %v, want ErrInvalidSwitch", sw, err)
		}
	}
	if list := s.list(s.now); len(list) != 0 {
		s.t.Errorf("invalid switches stored: %+v", list)
	}
}

func (s *suite) setFillsSetAt() {
	before := time.Now().Add(-time.Minute)
	got, err := s.store.Set(s.ctx, killswitch.Switch{Scope: killswitch.Global(), Reason: "r"})
	if err != nil {
		s.t.Fatal(err)
	}
	if got.SetAt.Before(before) {
		s.t.Errorf("SetAt = %v, want the store's current time", got.SetAt)
	}
}

func (s *suite) roundTrip() {
	want := killswitch.Switch{
		ID: "rt", Scope: killswitch.Tool("mcp:*"), Reason: "incident 42: exfiltration", SetBy: "alice@example.com",
		SetAt: s.now, ExpiresAt: s.now.Add(90 * time.Minute),
	}
	got := s.set(want)
	list := s.list(s.now)
	for what, sw := range map[string]killswitch.Switch{"Set": got, "List": first(list)} {
		if !same(sw, want) {
			s.t.Errorf("%s returned %+v, want %+v", what, sw, want)
		}
	}
}

func first(list []killswitch.Switch) killswitch.Switch {
	if len(list) == 0 {
		return killswitch.Switch{}
	}
	return list[0]
}

func same(a, b killswitch.Switch) bool {
	return a.ID == b.ID && a.Scope == b.Scope && a.Reason == b.Reason && a.SetBy == b.SetBy &&
		a.SetAt.Equal(b.SetAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func (s *suite) emptyMatchesNothing() {
	if id := s.match(tollgate.Agent{ID: "a", SessionID: "s"}, "t", s.now); id != "" {
		s.t.Errorf("empty store matched %q", id)
	}
	if n := s.mustMatcher().Len(); n != 0 {
		s.t.Errorf("empty store's Matcher holds %d switches", n)
	}
}

func (s *suite) mustMatcher() *killswitch.Matcher {
	s.t.Helper()
	m, err := s.store.Matcher()
	if err != nil {
		s.t.Fatalf("Matcher: %v", err)
	}
	return m
}

func (s *suite) scopesMatch() {
	s.set(killswitch.Switch{ID: "agent", Scope: killswitch.Agent("support-bot")})
	s.set(killswitch.Switch{ID: "tool", Scope: killswitch.Tool("db:drop")})
	s.set(killswitch.Switch{ID: "prefix", Scope: killswitch.Tool("mcp:*")})
	s.set(killswitch.Switch{ID: "session", Scope: killswitch.Session("sess-9")})
	for _, tc := range []struct {
		agent tollgate.Agent
		tool  string
		want  string
	}{
		{tollgate.Agent{ID: "support-bot"}, "api:read", "agent"},
		{tollgate.Agent{ID: "worker", DelegatedBy: []string{"support-bot", "router"}}, "api:read", "agent"},
		{tollgate.Agent{ID: "support-bot-2"}, "api:read", ""},
		{tollgate.Agent{ID: "x"}, "db:drop", "tool"},
		{tollgate.Agent{ID: "x"}, "db:drop2", ""},
		{tollgate.Agent{ID: "x"}, "mcp:fs.read", "prefix"},
		{tollgate.Agent{ID: "x"}, "mcp", ""},
		{tollgate.Agent{ID: "x", SessionID: "sess-9"}, "api:read", "session"},
		{tollgate.Agent{ID: "x", SessionID: "sess-10"}, "api:read", ""},
		{tollgate.Agent{ID: "x"}, "api:read", ""},
	} {
		if got := s.match(tc.agent, tc.tool, s.now); got != tc.want {
			s.t.Errorf("Match(%+v, %q) = %q, want %q", tc.agent, tc.tool, got, tc.want)
		}
	}
	if _, ok := s.mustMatcher().Global(s.now); ok {
		s.t.Error("Global matched without a global switch")
	}
	s.set(killswitch.Switch{ID: "global", Scope: killswitch.Global(), SetAt: s.now.Add(time.Second)})
	if sw, ok := s.mustMatcher().Global(s.now.Add(time.Second)); !ok || sw.ID != "global" {
		s.t.Errorf("Global = %q, %v; want the global switch", sw.ID, ok)
	}
	if got := s.match(tollgate.Agent{ID: "anyone"}, "api:read", s.now.Add(time.Second)); got != "global" {
		s.t.Errorf("Match with a global switch = %q, want global", got)
	}
}

func (s *suite) expiredLiftsItself() {
	s.set(killswitch.Switch{ID: "ttl", Scope: killswitch.Agent("a"), ExpiresAt: s.now.Add(time.Minute)})
	a := tollgate.Agent{ID: "a"}
	if got := s.match(a, "t", s.now.Add(time.Minute-time.Nanosecond)); got != "ttl" {
		s.t.Errorf("just before expiry: matched %q, want ttl", got)
	}
	if got := s.match(a, "t", s.now.Add(time.Minute)); got != "" {
		s.t.Errorf("at expiry: matched %q, want none (it lifts itself)", got)
	}
	if list := s.list(s.now.Add(time.Minute)); len(list) != 0 {
		s.t.Errorf("List after expiry = %v, want empty", ids(list))
	}
}

func (s *suite) listInOrder() {
	s.set(killswitch.Switch{ID: "c", Scope: killswitch.Global(), SetAt: s.now.Add(2 * time.Second)})
	s.set(killswitch.Switch{ID: "b", Scope: killswitch.Agent("x"), SetAt: s.now})
	s.set(killswitch.Switch{ID: "a", Scope: killswitch.Agent("y"), SetAt: s.now})
	s.set(killswitch.Switch{ID: "old", Scope: killswitch.Agent("z"), SetAt: s.now.Add(-time.Hour), ExpiresAt: s.now})
	if got := fmt.Sprint(ids(s.list(s.now.Add(3 * time.Second)))); got != "[a b c]" {
		s.t.Errorf("List = %s, want [a b c] (SetAt, then ID; expired left out)", got)
	}
	if got := fmt.Sprint(ids(s.list(s.now.Add(-time.Minute)))); got != "[old a b c]" {
		s.t.Errorf("List before old expired = %s, want [old a b c]", got)
	}
	if _, err := s.store.List(s.ctx, time.Time{}); !errors.Is(err, killswitch.ErrZeroTime) {
		s.t.Errorf("List(zero time) = %v, want ErrZeroTime", err)
	}
}

func (s *suite) lift() {
	want := s.set(killswitch.Switch{ID: "l", Scope: killswitch.Agent("a"), SetBy: "alice"})
	got, found, err := s.store.Lift(s.ctx, "l")
	if err != nil || !found || !same(got, want) {
		s.t.Fatalf("Lift = %+v, %v, %v; want %+v, true", got, found, err, want)
	}
	if id := s.match(tollgate.Agent{ID: "a"}, "t", s.now); id != "" {
		s.t.Errorf("lifted switch still matches (%q)", id)
	}
	for _, id := range []string{"l", "never-set"} {
		if _, found, err := s.store.Lift(s.ctx, id); found || err != nil {
			s.t.Errorf("Lift(%q) = found %v, %v; want not found", id, found, err)
		}
	}
}

func (s *suite) concurrentSets() {
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := s.store.Set(s.ctx, killswitch.Switch{Scope: killswitch.Agent(fmt.Sprint("agent-", i)), Reason: "r", SetAt: s.now}); err != nil {
				s.t.Errorf("Set: %v", err)
			}
		})
	}
	wg.Wait()
	if got := len(s.list(s.now)); got != n {
		s.t.Errorf("List has %d switches, want %d", got, n)
	}
	for i := range n {
		if s.match(tollgate.Agent{ID: fmt.Sprint("agent-", i)}, "t", s.now) == "" {
			s.t.Errorf("agent-%d not stopped", i)
		}
	}
}

func (s *suite) canceledContext() {
	ctx, cancel := context.WithCancel(s.ctx)
	cancel()
	if _, err := s.store.Set(ctx, killswitch.Switch{Scope: killswitch.Global(), Reason: "r", SetAt: s.now}); err == nil {
		s.t.Error("Set with a canceled context succeeded")
	}
	if _, _, err := s.store.Lift(ctx, "x"); err == nil {
		s.t.Error("Lift with a canceled context succeeded")
	}
	if _, err := s.store.List(ctx, s.now); err == nil {
		s.t.Error("List with a canceled context succeeded")
	}
}
