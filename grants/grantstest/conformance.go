package grantstest

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

// RunConformance runs the suite as subtests of t. newStore must return a new,
// empty store each time it is called; it is called once per subtest.
func RunConformance(t *testing.T, newStore func(t *testing.T) grants.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &suite{t: t, store: newStore(t), ctx: t.Context(), now: anchor()}
			c.run(s)
		})
	}
}

var cases = []struct {
	name string
	run  func(*suite)
}{
	{"CreateAssignsUUID", (*suite).createAssignsUUID},
	{"CreateRefusesDuplicateID", (*suite).createRefusesDuplicateID},
	{"CreateRefusesInvalidGrants", (*suite).createRefusesInvalid},
	{"CreateStartsUnusedAndLive", (*suite).createStartsUnusedAndLive},
	{"ConsumeExactMatchCountsUses", (*suite).consumeCountsUses},
	{"ConsumeWithoutMatch", (*suite).consumeWithoutMatch},
	{"ConsumeSkipsExpired", (*suite).consumeSkipsExpired},
	{"WildcardFields", (*suite).wildcardFields},
	{"ToolPrefix", (*suite).toolPrefix},
	{"Revoke", (*suite).revoke},
	{"MaxUsesUnderConcurrency", (*suite).maxUsesUnderConcurrency},
	{"UsedUpGrantFallsThrough", (*suite).usedUpFallsThrough},
	{"OldestFirst", (*suite).oldestFirst},
	{"List", (*suite).list},
	{"CleanupExpired", (*suite).cleanupExpired},
	{"ZeroTimeRefused", (*suite).zeroTimeRefused},
	{"CanceledContext", (*suite).canceledContext},
}

// anchor is the "now" of every case: whole seconds (so that backends storing
// seconds as floats round-trip exactly) and ahead of the real clock.
func anchor() time.Time { return time.Now().Truncate(time.Second).Add(time.Hour) }

type suite struct {
	t     *testing.T
	store grants.Store
	ctx   context.Context
	now   time.Time
}

var (
	agent = tollgate.Agent{ID: "agent-1", Version: "1.0.0", Owner: "team-a", DelegatedBy: []string{"orchestrator"}}
	req   = tollgate.ToolRequest{
		Tool: "api:fetch", Action: "get", ResourceType: "data", Effect: tollgate.EffectRead,
		Params: tollgate.Params{{Key: "url", Value: "https://example.com"}}, ManifestVersion: "1.0.0",
	}
	uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// exact is a grant naming every field of agent and req.
func (s *suite) exact() grants.Grant {
	return grants.Grant{
		AgentID: agent.ID, Effect: req.Effect, Tool: req.Tool, Action: req.Action, ResourceType: req.ResourceType,
		ExpiresAt: s.now.Add(time.Hour), GrantedBy: "alice", Reason: "conformance",
	}
}

func (s *suite) create(g grants.Grant) grants.Grant {
	s.t.Helper()
	got, err := s.store.Create(s.ctx, g)
	if err != nil {
		s.t.Fatalf("Create(%+v): %v", g, err)
	}
	return got
}

// consume consumes for agent/req at s.now and returns the grant's ID ("" when
// none matched).
func (s *suite) consume(a tollgate.Agent, r tollgate.ToolRequest) string {
	s.t.Helper()
	return s.consumeAt(a, r, s.now)
}

func (s *suite) consumeAt(a tollgate.Agent, r tollgate.ToolRequest, now time.Time) string {
	s.t.Helper()
	g, found, err := s.store.Consume(s.ctx, a, r, now)
	if err != nil {
		s.t.Fatalf("Consume: %v", err)
	}
	if found != (g.ID != "") {
		s.t.Fatalf("Consume returned found=%v with grant ID %q", found, g.ID)
	}
	return g.ID
}

func (s *suite) get(id string) grants.Grant {
	s.t.Helper()
	g, found, err := s.store.Get(s.ctx, id)
	if err != nil || !found {
		s.t.Fatalf("Get(%q) = found %v, err %v", id, found, err)
	}
	return g
}

func (s *suite) uses(id string) int {
	s.t.Helper()
	return s.get(id).Uses
}

func (s *suite) ids(gs []grants.Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func equalIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *suite) createAssignsUUID() {
	want := s.exact()
	want.MaxUses = 3
	want.CreatedAt = s.now.Add(-time.Minute)
	a := s.create(want)
	b := s.create(s.exact())
	if !uuidV4.MatchString(a.ID) || a.ID == b.ID {
		s.t.Fatalf("IDs %q and %q: want two different random UUIDv4s", a.ID, b.ID)
	}
	got := s.get(a.ID)
	if got.AgentID != want.AgentID || got.Effect != want.Effect || got.Tool != want.Tool || got.Action != want.Action ||
		got.ResourceType != want.ResourceType || got.GrantedBy != want.GrantedBy || got.Reason != want.Reason ||
		got.MaxUses != want.MaxUses || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.CreatedAt.Equal(want.CreatedAt) {
		s.t.Errorf("stored %+v, created from %+v", got, want)
	}
	if b.CreatedAt.IsZero() || s.get(b.ID).CreatedAt.IsZero() {
		s.t.Errorf("zero CreatedAt was not set to the current time: %v", b.CreatedAt)
	}
}

func (s *suite) createRefusesDuplicateID() {
	first := s.exact()
	first.ID = "grant-1"
	s.create(first)
	second := s.exact()
	second.ID = "grant-1"
	second.Tool = "*"
	if _, err := s.store.Create(s.ctx, second); !errors.Is(err, grants.ErrExists) {
		s.t.Fatalf("duplicate Create: err = %v, want ErrExists", err)
	}
	if got := s.get("grant-1"); got.Tool != first.Tool {
		s.t.Errorf("duplicate Create overwrote the grant: tool %q", got.Tool)
	}
}

func (s *suite) createRefusesInvalid() {
	for name, mutate := range map[string]func(*grants.Grant){
		"zero ExpiresAt":   func(g *grants.Grant) { g.ExpiresAt = time.Time{} },
		"unknown effect":   func(g *grants.Grant) { g.Effect = "READ" },
		"negative MaxUses": func(g *grants.Grant) { g.MaxUses = -1 },
	} {
		g := s.exact()
		mutate(&g)
		if _, err := s.store.Create(s.ctx, g); !errors.Is(err, grants.ErrInvalidGrant) {
			s.t.Errorf("%s: err = %v, want ErrInvalidGrant", name, err)
		}
	}
	all, err := s.store.List(s.ctx, grants.Filter{IncludeInactive: true})
	if err != nil || len(all) != 0 {
		s.t.Errorf("after refused creates: List = %v, %v; want empty", all, err)
	}
}

func (s *suite) createStartsUnusedAndLive() {
	g := s.exact()
	g.Uses, g.Revoked = 7, true
	id := s.create(g).ID
	if got := s.get(id); got.Uses != 0 || got.Revoked {
		s.t.Fatalf("stored Uses=%d Revoked=%v; want a fresh grant", got.Uses, got.Revoked)
	}
	if s.consume(agent, req) != id {
		s.t.Error("fresh grant did not match")
	}
}

func (s *suite) consumeCountsUses() {
	id := s.create(s.exact()).ID
	if n := s.uses(id); n != 0 {
		s.t.Fatalf("uses after create = %d, want 0", n)
	}
	for want := 1; want <= 2; want++ {
		g, found, err := s.store.Consume(s.ctx, agent, req, s.now)
		if err != nil || !found || g.ID != id || g.Uses != want {
			s.t.Fatalf("Consume #%d = %+v, %v, %v; want grant %s with %d uses", want, g, found, err, id, want)
		}
		if n := s.uses(id); n != want {
			s.t.Fatalf("stored uses = %d, want %d", n, want)
		}
	}
}

func (s *suite) consumeWithoutMatch() {
	if id := s.consume(agent, req); id != "" {
		s.t.Fatalf("empty store matched %q", id)
	}
	g := s.exact()
	g.Effect = tollgate.EffectWrite
	id := s.create(g).ID
	if got := s.consume(agent, req); got != "" {
		s.t.Errorf("write grant matched a read request")
	}
	if n := s.uses(id); n != 0 {
		s.t.Errorf("non-matching Consume counted a use: %d", n)
	}
}

func (s *suite) consumeSkipsExpired() {
	expired := s.exact()
	expired.ExpiresAt = s.now.Add(-time.Second)
	s.create(expired)
	boundary := s.exact()
	boundary.ExpiresAt = s.now // expires exactly now: dead, as in Tollgate
	s.create(boundary)
	if id := s.consume(agent, req); id != "" {
		s.t.Fatalf("expired grant %s matched", id)
	}
	live := s.exact()
	live.ExpiresAt = s.now.Add(time.Second)
	id := s.create(live).ID
	if got := s.consume(agent, req); got != id {
		s.t.Fatalf("live grant: got %q, want %q", got, id)
	}
	if got := s.consumeAt(agent, req, live.ExpiresAt); got != "" {
		s.t.Errorf("grant matched at its expiry instant")
	}
}

func (s *suite) wildcardFields() {
	other := tollgate.ToolRequest{Tool: "db:query", Action: "select", ResourceType: "table", Effect: tollgate.EffectWrite}
	for _, c := range []struct {
		name      string
		mutate    func(*grants.Grant)
		agent     tollgate.Agent
		req       tollgate.ToolRequest
		wantMatch bool
	}{
		{"any agent", func(g *grants.Grant) { g.AgentID = "" }, tollgate.Agent{ID: "someone-else"}, req, true},
		{"agent mismatch", func(*grants.Grant) {}, tollgate.Agent{ID: "agent-2"}, req, false},
		{"any effect", func(g *grants.Grant) { g.Effect = "" }, agent, withEffect(req, tollgate.EffectDelete), true},
		{"effect mismatch", func(*grants.Grant) {}, agent, withEffect(req, tollgate.EffectWrite), false},
		{"any tool", func(g *grants.Grant) { g.Tool = "" }, agent, withTool(req, other.Tool), true},
		{"tool mismatch", func(*grants.Grant) {}, agent, withTool(req, other.Tool), false},
		{"any action", func(g *grants.Grant) { g.Action = "" }, agent, withAction(req, other.Action), true},
		{"action mismatch", func(*grants.Grant) {}, agent, withAction(req, other.Action), false},
		{"any resource type", func(g *grants.Grant) { g.ResourceType = "" }, agent, withResource(req, other.ResourceType), true},
		{"resource type mismatch", func(*grants.Grant) {}, agent, withResource(req, other.ResourceType), false},
		{"all wildcards", func(g *grants.Grant) { *g = grants.Grant{ExpiresAt: g.ExpiresAt} }, tollgate.Agent{ID: "x"}, other, true},
		{"version, owner and chain ignored", func(*grants.Grant) {}, tollgate.Agent{ID: agent.ID, Version: "9", Owner: "other", DelegatedBy: []string{"a", "b"}}, req, true},
	} {
		s.t.Run(c.name, func(t *testing.T) {
			sub := &suite{t: t, store: s.store, ctx: s.ctx, now: s.now}
			g := sub.exact()
			c.mutate(&g)
			id := sub.create(g).ID
			defer sub.store.Revoke(sub.ctx, id)
			if got := sub.consume(c.agent, c.req); (got == id) != c.wantMatch || (got != "" && got != id) {
				t.Errorf("Consume = %q, want match %v of %q", got, c.wantMatch, id)
			}
		})
	}
}

func withEffect(r tollgate.ToolRequest, e tollgate.Effect) tollgate.ToolRequest {
	r.Effect = e
	return r
}

func withTool(r tollgate.ToolRequest, tool string) tollgate.ToolRequest {
	r.Tool = tool
	return r
}

func withAction(r tollgate.ToolRequest, action string) tollgate.ToolRequest {
	r.Action = action
	return r
}

func withResource(r tollgate.ToolRequest, rt string) tollgate.ToolRequest {
	r.ResourceType = rt
	return r
}

func (s *suite) toolPrefix() {
	for _, c := range []struct {
		pattern, tool string
		want          bool
	}{
		{"mcp:*", "mcp:server.read", true},
		{"mcp:*", "mcp:", true},
		{"mcp:*", "langchain:tool", false},
		{"mcp:*", "mcp", false},
		{"*", "anything", true},
		{"*", "", true},
		{"mc*p", "mc*p", true}, // only a trailing * is special
		{"mc*p", "mcxp", false},
		{"mcp:server.read", "mcp:server.read.extra", false},
	} {
		g := s.exact()
		g.Tool = c.pattern
		id := s.create(g).ID
		got := s.consume(agent, withTool(req, c.tool))
		if (got == id) != c.want {
			s.t.Errorf("tool pattern %q vs %q: matched %v, want %v", c.pattern, c.tool, got == id, c.want)
		}
		if ok, err := s.store.Revoke(s.ctx, id); !ok || err != nil {
			s.t.Fatalf("Revoke(%s) = %v, %v", id, ok, err)
		}
	}
}

func (s *suite) revoke() {
	id := s.create(s.exact()).ID
	if ok, err := s.store.Revoke(s.ctx, id); !ok || err != nil {
		s.t.Fatalf("Revoke = %v, %v; want true", ok, err)
	}
	if got := s.consume(agent, req); got != "" {
		s.t.Errorf("revoked grant matched")
	}
	if !s.get(id).Revoked {
		s.t.Errorf("Get does not report the grant revoked")
	}
	if ok, err := s.store.Revoke(s.ctx, id); ok || err != nil {
		s.t.Errorf("second Revoke = %v, %v; want false", ok, err)
	}
	if ok, err := s.store.Revoke(s.ctx, "no-such-grant"); ok || err != nil {
		s.t.Errorf("Revoke(unknown) = %v, %v; want false", ok, err)
	}
}

func (s *suite) maxUsesUnderConcurrency() {
	const maxUses, callers = 10, 50
	g := s.exact()
	g.MaxUses = maxUses
	id := s.create(g).ID
	var granted, failed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			got, found, err := s.store.Consume(s.ctx, agent, req, s.now)
			switch {
			case err != nil:
				failed.Add(1)
			case found && got.ID == id:
				granted.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if failed.Load() != 0 || granted.Load() != maxUses {
		s.t.Fatalf("%d concurrent Consume calls: %d granted, %d errors; want exactly %d granted", callers, granted.Load(), failed.Load(), maxUses)
	}
	if n := s.uses(id); n != maxUses {
		s.t.Errorf("stored uses = %d, want %d", n, maxUses)
	}
	if got := s.consume(agent, req); got != "" {
		s.t.Errorf("used-up grant matched again")
	}
}

func (s *suite) usedUpFallsThrough() {
	once := s.exact()
	once.MaxUses = 1
	once.CreatedAt = s.now.Add(-2 * time.Minute)
	onceID := s.create(once).ID
	always := s.exact()
	always.CreatedAt = s.now.Add(-time.Minute)
	alwaysID := s.create(always).ID
	if got := []string{s.consume(agent, req), s.consume(agent, req), s.consume(agent, req)}; !equalIDs(got, []string{onceID, alwaysID, alwaysID}) {
		s.t.Fatalf("consumed %v, want [%s %s %s]", got, onceID, alwaysID, alwaysID)
	}
}

func (s *suite) oldestFirst() {
	newer := s.exact()
	newer.CreatedAt = s.now.Add(-time.Minute)
	newerID := s.create(newer).ID
	older := s.exact()
	older.Tool = "api:*"
	older.CreatedAt = s.now.Add(-2 * time.Minute)
	olderID := s.create(older).ID
	if got := s.consume(agent, req); got != olderID {
		s.t.Fatalf("consumed %q, want the older grant %q (newer is %q)", got, olderID, newerID)
	}

	// Same CreatedAt: the smaller ID wins, whatever the insertion order.
	tie := s.now.Add(-time.Hour)
	for _, id := range []string{"tie-b", "tie-a", "tie-c"} {
		g := s.exact()
		g.ID, g.CreatedAt = id, tie
		s.create(g)
	}
	if got := s.consume(agent, req); got != "tie-a" {
		s.t.Errorf("tie on CreatedAt: consumed %q, want tie-a", got)
	}
}

func (s *suite) list() {
	mk := func(id, agentID string, age time.Duration, mutate func(*grants.Grant)) {
		g := s.exact()
		g.ID, g.AgentID, g.CreatedAt = id, agentID, s.now.Add(-age)
		mutate(&g)
		s.create(g)
	}
	keep := func(*grants.Grant) {}
	mk("active-1", "agent-1", 5*time.Minute, keep)
	mk("wildcard", "", 4*time.Minute, keep)
	mk("active-2", "agent-2", 3*time.Minute, keep)
	mk("expired", "agent-1", 2*time.Minute, func(g *grants.Grant) { g.ExpiresAt = s.now })
	mk("revoked", "agent-1", time.Minute, keep)
	mk("used-up", "agent-1", 30*time.Second, func(g *grants.Grant) { g.MaxUses = 1; g.Tool = "used:up" })
	s.store.Revoke(s.ctx, "revoked")
	if got := s.consume(agent, withTool(req, "used:up")); got != "used-up" {
		s.t.Fatalf("setup: consumed %q, want used-up", got)
	}

	for _, c := range []struct {
		f    grants.Filter
		want []string
	}{
		{grants.Filter{Now: s.now}, []string{"active-1", "wildcard", "active-2"}},
		{grants.Filter{Now: s.now, AgentID: "agent-1"}, []string{"active-1"}},
		{grants.Filter{Now: s.now.Add(-3 * time.Minute)}, []string{"active-1", "wildcard", "active-2", "expired"}},
		{grants.Filter{IncludeInactive: true}, []string{"active-1", "wildcard", "active-2", "expired", "revoked", "used-up"}},
		{grants.Filter{IncludeInactive: true, AgentID: "agent-1"}, []string{"active-1", "expired", "revoked", "used-up"}},
		{grants.Filter{Now: s.now, AgentID: "nobody"}, []string{}},
	} {
		got, err := s.store.List(s.ctx, c.f)
		if err != nil || !equalIDs(s.ids(got), c.want) {
			s.t.Errorf("List(%+v) = %v, %v; want %v", c.f, s.ids(got), err, c.want)
		}
	}
	if _, err := s.store.List(s.ctx, grants.Filter{}); err == nil {
		s.t.Error("List without Now or IncludeInactive succeeded; a zero time must be refused")
	}
}

func (s *suite) cleanupExpired() {
	expired := s.exact()
	expired.ExpiresAt = s.now.Add(-time.Second)
	expiredID := s.create(expired).ID
	boundary := s.exact()
	boundary.ExpiresAt = s.now
	boundaryID := s.create(boundary).ID
	activeID := s.create(s.exact()).ID
	revokedID := s.create(s.exact()).ID
	s.store.Revoke(s.ctx, revokedID)

	n, err := s.store.CleanupExpired(s.ctx, s.now)
	if err != nil || n != 2 {
		s.t.Fatalf("CleanupExpired = %d, %v; want 2", n, err)
	}
	for _, id := range []string{expiredID, boundaryID} {
		if _, found, _ := s.store.Get(s.ctx, id); found {
			s.t.Errorf("expired grant %s survived cleanup", id)
		}
	}
	s.get(activeID)
	if !s.get(revokedID).Revoked {
		s.t.Errorf("revoked, unexpired grant lost its revocation")
	}
	if n, err := s.store.CleanupExpired(s.ctx, s.now); n != 0 || err != nil {
		s.t.Errorf("second CleanupExpired = %d, %v; want 0", n, err)
	}
}

func (s *suite) zeroTimeRefused() {
	id := s.create(s.exact()).ID
	if _, _, err := s.store.Consume(s.ctx, agent, req, time.Time{}); err == nil {
		s.t.Error("Consume with a zero time succeeded")
	}
	if _, err := s.store.CleanupExpired(s.ctx, time.Time{}); err == nil {
		s.t.Error("CleanupExpired with a zero time succeeded")
	}
	if n := s.uses(id); n != 0 {
		s.t.Errorf("refused Consume counted a use: %d", n)
	}
}

func (s *suite) canceledContext() {
	id := s.create(s.exact()).ID
	ctx, cancel := context.WithCancel(s.ctx)
	cancel()
	if _, _, err := s.store.Consume(ctx, agent, req, s.now); err == nil {
		s.t.Error("Consume with a canceled context succeeded")
	}
	if _, err := s.store.Create(ctx, s.exact()); err == nil {
		s.t.Error("Create with a canceled context succeeded")
	}
	if n := s.uses(id); n != 0 {
		s.t.Errorf("canceled Consume counted a use: %d", n)
	}
}
