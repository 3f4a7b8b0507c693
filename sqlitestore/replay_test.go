package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct{ now atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.now.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func TestReplayCacheRefusesSecondUse(t *testing.T) {
	rc := openDB(t).ReplayCache()
	exp := time.Now().Add(time.Minute)
	if err := rc.MarkUsed(t.Context(), "jti-1", exp); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := rc.MarkUsed(t.Context(), "jti-1", exp); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("second use: %v, want ErrReplayed", err)
	}
	if err := rc.MarkUsed(t.Context(), "jti-2", exp); err != nil {
		t.Errorf("another token: %v", err)
	}
}

func TestReplayCacheExactlyOnceUnderConcurrency(t *testing.T) {
	const callers = 50
	path := filepath.Join(t.TempDir(), "replay.db")
	caches := []identity.ReplayCache{openPath(t, path).ReplayCache(), openPath(t, path).ReplayCache()}
	exp := time.Now().Add(time.Minute)
	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			switch err := caches[i%2].MarkUsed(t.Context(), "same-jti", exp); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, identity.ErrReplayed):
				replayed.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != callers-1 {
		t.Fatalf("%d concurrent uses: %d accepted, %d replays; want 1 and %d", callers, ok.Load(), replayed.Load(), callers-1)
	}
}

func TestReplayCacheForgetsExpiredTokens(t *testing.T) {
	const early = 20 // more than one MarkUsed prunes
	clock := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "replay.db")
	rc := openPath(t, path, sqlitestore.WithClock(clock.Now)).ReplayCache()
	raw := rawDB(t, path)
	ctx := t.Context()
	count := func() (n int) {
		t.Helper()
		if err := raw.QueryRow(`SELECT COUNT(*) FROM tollgate_token_replay`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range early {
		if err := rc.MarkUsed(ctx, fmt.Sprint("early-", i), clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// "late" expires last, so pruning reaches it last.
	if err := rc.MarkUsed(ctx, "late", clock.Now().Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// An already expired token is not recorded: no verifier accepts it.
	if err := rc.MarkUsed(ctx, "stale", clock.Now()); err != nil {
		t.Fatalf("expired token: %v", err)
	}
	if n := count(); n != early+1 {
		t.Fatalf("%d entries, want %d (the expired token recorded nothing)", n, early+1)
	}
	if err := rc.MarkUsed(ctx, "late", clock.Now().Add(time.Hour)); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("reuse before expiry: %v, want ErrReplayed", err)
	}

	clock.Advance(2 * time.Minute) // everything has expired
	if err := rc.MarkUsed(ctx, "late", clock.Now().Add(time.Minute)); err != nil {
		t.Fatalf("reuse of an expired entry's jti: %v", err)
	}
	if err := rc.MarkUsed(ctx, "late", clock.Now().Add(time.Minute)); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("second use of the renewed jti: %v, want ErrReplayed", err)
	}
	// Two calls pruned at most 16 expired entries each: all 20 are gone,
	// and "late" holds its new expiry.
	if n := count(); n != 1 {
		t.Errorf("%d entries after expiry, want 1", n)
	}
}

func TestReplayCacheSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.db")
	exp := time.Now().Add(time.Hour)
	db, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReplayCache().MarkUsed(t.Context(), "jti", exp); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := openPath(t, path).ReplayCache().MarkUsed(t.Context(), "jti", exp); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("after restart: %v, want ErrReplayed", err)
	}
}

func TestReplayCacheRefusesBadArguments(t *testing.T) {
	rc := openDB(t).ReplayCache()
	exp := time.Now().Add(time.Minute)
	if err := rc.MarkUsed(t.Context(), "", exp); err == nil || errors.Is(err, identity.ErrReplayed) {
		t.Errorf("empty jti: %v, want a plain error", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := rc.MarkUsed(ctx, "jti", exp); err == nil {
		t.Error("canceled context: MarkUsed succeeded")
	}
	if err := rc.MarkUsed(t.Context(), "jti", exp); err != nil {
		t.Errorf("the refused calls recorded the jti: %v", err)
	}
}
