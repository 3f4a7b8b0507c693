package sqlitestore_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

var (
	testAgent = tollgate.Agent{ID: "agent-1"}
	testCall  = tollgate.ToolRequest{Tool: "api:fetch", Action: "get", ResourceType: "data", Effect: tollgate.EffectRead}
)

// Two DB handles on one file stand in for two processes: they share no
// Go state, only SQLite's file locks.
func TestGrantsMaxUsesAcrossHandles(t *testing.T) {
	const maxUses, perHandle = 10, 25
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := []grants.Store{openPath(t, path).Grants(), openPath(t, path).Grants()}
	now := time.Now()
	g, err := stores[0].Create(t.Context(), grants.Grant{AgentID: testAgent.ID, ExpiresAt: now.Add(time.Hour), MaxUses: maxUses})
	if err != nil {
		t.Fatal(err)
	}
	var won, failed atomic.Int32
	var wg sync.WaitGroup
	for _, s := range stores {
		for range perHandle {
			wg.Go(func() {
				_, found, err := s.Consume(t.Context(), testAgent, testCall, now)
				switch {
				case err != nil:
					failed.Add(1)
					t.Log(err)
				case found:
					won.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if won.Load() != maxUses || failed.Load() != 0 {
		t.Fatalf("%d consumers on two handles: %d won, %d failed; want exactly %d won", 2*perHandle, won.Load(), failed.Load(), maxUses)
	}
	if got, _, _ := stores[1].Get(t.Context(), g.ID); got.Uses != maxUses {
		t.Errorf("stored uses = %d, want %d", got.Uses, maxUses)
	}
}

func TestGrantsRefuseUnstorableTimes(t *testing.T) {
	s := openDB(t).Grants()
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, g := range map[string]grants.Grant{
		"expiry after 2262":    {ExpiresAt: far},
		"creation before 1678": {ExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := s.Create(t.Context(), g); !errors.Is(err, grants.ErrInvalidGrant) {
			t.Errorf("%s: err = %v, want ErrInvalidGrant", name, err)
		}
	}
	// Query times outside the range are clamped, not refused: every stored
	// grant has expired by the year 3000.
	if _, err := s.Create(t.Context(), grants.Grant{ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Consume(t.Context(), testAgent, testCall, far); found || err != nil {
		t.Errorf("Consume in the year 3000 = %v, %v; want no grant", found, err)
	}
	if n, err := s.CleanupExpired(t.Context(), far); n != 1 || err != nil {
		t.Errorf("CleanupExpired in the year 3000 = %d, %v; want 1", n, err)
	}
}

func TestGrantsCreatedAtComesFromTheClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	s := openDB(t, sqlitestore.WithClock(func() time.Time { return at })).Grants()
	g, err := s.Create(t.Context(), grants.Grant{ExpiresAt: at.Add(time.Hour)})
	if err != nil || !g.CreatedAt.Equal(at) {
		t.Fatalf("Create = %+v, %v; want CreatedAt %v", g, err, at)
	}
	if got, _, _ := s.Get(t.Context(), g.ID); !got.CreatedAt.Equal(at) {
		t.Errorf("stored CreatedAt %v, want %v", got.CreatedAt, at)
	}
}

func TestGrantsCanceledContext(t *testing.T) {
	s := openDB(t).Grants()
	g, err := s.Create(t.Context(), grants.Grant{ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if ok, err := s.Revoke(ctx, g.ID); ok || err == nil {
		t.Errorf("Revoke with a canceled context = %v, %v", ok, err)
	}
	if _, _, err := s.Get(ctx, g.ID); err == nil {
		t.Error("Get with a canceled context succeeded")
	}
	if _, err := s.List(ctx, grants.Filter{IncludeInactive: true}); err == nil {
		t.Error("List with a canceled context succeeded")
	}
	if _, err := s.CleanupExpired(ctx, time.Now().Add(2*time.Hour)); err == nil {
		t.Error("CleanupExpired with a canceled context succeeded")
	}
	if got, _, _ := s.Get(t.Context(), g.ID); got.Revoked {
		t.Error("a canceled Revoke revoked the grant")
	}
}
