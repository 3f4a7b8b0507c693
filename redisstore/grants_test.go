package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

var (
	testAgent = tollgate.Agent{ID: "agent-1"}
	testReq   = tollgate.ToolRequest{Tool: "api:fetch", Action: "get", ResourceType: "data", Effect: tollgate.EffectRead}
	testNow   = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
)

func testGrant(agentID string) grants.Grant {
	return grants.Grant{AgentID: agentID, Tool: testReq.Tool, ExpiresAt: testNow.Add(time.Hour), GrantedBy: "alice"}
}

func zcard(t *testing.T, c *redis.Client, key string) int64 {
	t.Helper()
	n, err := c.ZCard(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("ZCARD %s: %v", key, err)
	}
	return n
}

// The live sets must lose revoked and used-up grants, and CleanupExpired
// must leave no index entry behind, or Consume scans and memory grow
// without bound.
func TestRedisGrantIndexesShrink(t *testing.T) {
	s, c := newTestStore(t)
	gs, ctx, k := s.Grants(), t.Context(), s.keys
	once := testGrant("agent-1")
	once.MaxUses = 1
	onceG, _ := gs.Create(ctx, once)
	revoked, _ := gs.Create(ctx, testGrant("agent-1"))
	wild, err := gs.Create(ctx, testGrant(""))
	if err != nil {
		t.Fatal(err)
	}
	if n := zcard(t, c, k.grantLive+"agent-1"); n != 2 {
		t.Fatalf("live set of agent-1 holds %d grants, want 2", n)
	}
	if g, found, err := gs.Consume(ctx, testAgent, testReq, testNow); !found || err != nil || g.ID == wild.ID {
		t.Fatalf("Consume = %+v, %v, %v", g, found, err)
	}
	gs.Revoke(ctx, revoked.ID)
	if n := zcard(t, c, k.grantLive+"agent-1"); n != 0 {
		t.Errorf("live set of agent-1 holds %d grants after use-up and revoke, want 0", n)
	}
	if n := zcard(t, c, k.grantLive); n != 1 {
		t.Errorf("wildcard live set holds %d grants, want 1", n)
	}
	if g, found, _ := gs.Consume(ctx, testAgent, testReq, testNow); !found || g.ID != wild.ID {
		t.Errorf("Consume after the agent's grants died = %q, want the wildcard grant %q", g.ID, wild.ID)
	}
	if g, _, _ := gs.Get(ctx, onceG.ID); g.Uses != 1 {
		t.Errorf("used-up grant has %d uses, want 1", g.Uses)
	}

	n, err := gs.CleanupExpired(ctx, testNow.Add(time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("CleanupExpired = %d, %v; want 3", n, err)
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left after every grant was cleaned up: %v, %v", keys, err)
	}
}

func TestRedisGrantPrefixesAreIsolated(t *testing.T) {
	c := newClient(t)
	a, b := New(c, WithPrefix("a:")).Grants(), New(c, WithPrefix("b:")).Grants()
	g, err := a.Create(t.Context(), testGrant("agent-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := b.Consume(t.Context(), testAgent, testReq, testNow); found || err != nil {
		t.Errorf("store b consumed store a's grant: %v, %v", found, err)
	}
	if _, found, _ := b.Get(t.Context(), g.ID); found {
		t.Error("store b sees store a's grant")
	}
	if n, _ := c.Exists(t.Context(), "a:{grants}:grant:"+g.ID).Result(); n != 1 {
		t.Errorf("grant not stored under the prefix: GrantKey is %q", New(c, WithPrefix("a:")).GrantKey(g.ID))
	}
}

func TestRedisGrantClockStampsCreatedAt(t *testing.T) {
	c := newClient(t)
	gs := New(c, WithClock(func() time.Time { return testNow })).Grants()
	g, err := gs.Create(t.Context(), testGrant("agent-1"))
	if err != nil || !g.CreatedAt.Equal(testNow) {
		t.Fatalf("Create = %v, %v; want CreatedAt %v", g.CreatedAt, err, testNow)
	}
	if got, _, _ := gs.Get(t.Context(), g.ID); !got.CreatedAt.Equal(testNow) {
		t.Errorf("stored CreatedAt %v, want %v", got.CreatedAt, testNow)
	}
}

// A grant record that cannot be decoded is an error, never a silent match
// or a silent miss.
func TestRedisGrantDamagedRecord(t *testing.T) {
	for field, value := range map[string]string{
		"uses": "many", "max": "", "expires": "yesterday", "created": strings.Repeat("z", timeKeyLen),
	} {
		t.Run(field, func(t *testing.T) {
			s, c := newTestStore(t)
			gs := s.Grants()
			g, err := gs.Create(t.Context(), testGrant("agent-1"))
			if err != nil {
				t.Fatal(err)
			}
			c.HSet(t.Context(), s.GrantKey(g.ID), field, value)
			if _, _, err := gs.Get(t.Context(), g.ID); err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("Get: err = %v, want one naming field %q", err, field)
			}
			if _, err := gs.List(t.Context(), grants.Filter{IncludeInactive: true}); err == nil {
				t.Error("List succeeded over a damaged record")
			}
		})
	}
}

// Every method fails closed when Redis cannot be reached.
func TestRedisGrantStoreUnavailable(t *testing.T) {
	c := newClient(t)
	gs := New(c).Grants()
	c.Close()
	ctx := t.Context()
	if _, err := gs.Create(ctx, testGrant("agent-1")); err == nil {
		t.Error("Create succeeded")
	}
	if g, found, err := gs.Consume(ctx, testAgent, testReq, testNow); err == nil || found || g.ID != "" {
		t.Errorf("Consume = %+v, %v, %v; want an error and no grant", g, found, err)
	}
	if ok, err := gs.Revoke(ctx, "g"); err == nil || ok {
		t.Errorf("Revoke = %v, %v", ok, err)
	}
	if _, found, err := gs.Get(ctx, "g"); err == nil || found {
		t.Errorf("Get = %v, %v", found, err)
	}
	if _, err := gs.List(ctx, grants.Filter{Now: testNow}); err == nil {
		t.Error("List succeeded")
	}
	if _, err := gs.CleanupExpired(ctx, testNow); err == nil {
		t.Error("CleanupExpired succeeded")
	}
}

func TestRedisGrantStoreCanceledContext(t *testing.T) {
	gs := New(newClient(t)).Grants()
	ctx := canceled()
	for name, err := range map[string]error{
		"Revoke":         err2(gs.Revoke(ctx, "g")),
		"Get":            err3(gs.Get(ctx, "g")),
		"List":           err2(gs.List(ctx, grants.Filter{IncludeInactive: true})),
		"CleanupExpired": err2(gs.CleanupExpired(ctx, testNow)),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// err2 and err3 keep only the error of a call.
func err2[T any](_ T, err error) error         { return err }
func err3[T, U any](_ T, _ U, err error) error { return err }

// grantValues and grantFields must list the same fields in the same
// order, or HMGET replies would be decoded into the wrong fields.
func TestGrantValuesFollowGrantFields(t *testing.T) {
	vals := grantValues(testGrant("agent-1"))
	if len(vals) != 2*len(grantFields) {
		t.Fatalf("grantValues has %d entries, want %d", len(vals), 2*len(grantFields))
	}
	for i, f := range grantFields {
		if vals[2*i] != f {
			t.Errorf("grantValues field %d is %v, want %q", i, vals[2*i], f)
		}
	}
}

// The live sets only narrow Consume's scan; the record decides. A grant
// that is revoked or used up but still indexed (as after a partial manual
// repair) must not match.
func TestRedisGrantConsumeChecksTheRecord(t *testing.T) {
	s, c := newTestStore(t)
	gs, ctx := s.Grants(), t.Context()
	once := testGrant("agent-1")
	once.MaxUses = 1
	usedUp, _ := gs.Create(ctx, once)
	revoked, err := gs.Create(ctx, testGrant("agent-1"))
	if err != nil {
		t.Fatal(err)
	}
	gs.Consume(ctx, testAgent, testReq, testNow)
	gs.Revoke(ctx, revoked.ID)
	for _, g := range []grants.Grant{usedUp, revoked} {
		c.ZAdd(ctx, s.keys.grantLive+"agent-1", redis.Z{Member: timeKey(g.CreatedAt) + g.ID})
	}
	if g, found, err := gs.Consume(ctx, testAgent, testReq, testNow); found || err != nil {
		t.Errorf("Consume = %q, %v, %v; want no grant", g.ID, found, err)
	}
	if g, _, _ := gs.Get(ctx, usedUp.ID); g.Uses != 1 {
		t.Errorf("used-up grant now has %d uses", g.Uses)
	}
}
