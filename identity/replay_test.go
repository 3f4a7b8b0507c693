package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/identity"
)

func TestMemoryReplayCache(t *testing.T) {
	clk := newClock(t0)
	rc := identity.NewMemoryReplayCache(identity.WithClock(clk.Now))
	ctx := context.Background()
	exp := t0.Add(time.Minute)

	if err := rc.MarkUsed(ctx, "j1", exp); err != nil {
		t.Fatal(err)
	}
	if err := rc.MarkUsed(ctx, "j1", exp.Add(time.Hour)); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("second use: err = %v, want ErrReplayed", err)
	}
	if err := rc.MarkUsed(ctx, "j2", exp); err != nil {
		t.Fatalf("another jti: %v", err)
	}
	clk.now = exp.Add(-time.Nanosecond)
	if err := rc.MarkUsed(ctx, "j1", exp); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("just before expiry: err = %v, want ErrReplayed", err)
	}
	clk.now = exp
	if n := rc.Len(); n != 0 {
		t.Fatalf("Len at expiry = %d, want 0 (entries forgotten)", n)
	}
	if err := rc.MarkUsed(ctx, "j1", exp.Add(time.Minute)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if err := rc.MarkUsed(ctx, "already-expired", exp); err != nil || rc.Len() != 1 {
		t.Fatalf("expired token: err = %v, Len = %d; want nil and not recorded", err, rc.Len())
	}
	if err := rc.MarkUsed(ctx, "", exp.Add(time.Hour)); err == nil || errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("empty jti: err = %v", err)
	}
}

func TestMemoryReplayCacheIsBounded(t *testing.T) {
	clk := newClock(t0)
	rc := identity.NewMemoryReplayCache(identity.WithClock(clk.Now), identity.WithMaxEntries(3))
	ctx := context.Background()
	for i := range 3 {
		if err := rc.MarkUsed(ctx, fmt.Sprint("j", i), t0.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// Full: refuse rather than forget an unexpired jti.
	err := rc.MarkUsed(ctx, "j3", t0.Add(time.Hour))
	if !errors.Is(err, identity.ErrReplayCacheFull) || errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("full cache: err = %v, want ErrReplayCacheFull", err)
	}
	if err := rc.MarkUsed(ctx, "j0", t0.Add(time.Hour)); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("full cache still detects replays: %v", err)
	}
	clk.Add(time.Minute) // j0 expires and makes room
	if err := rc.MarkUsed(ctx, "j3", t0.Add(time.Hour)); err != nil {
		t.Fatalf("after an expiry: %v", err)
	}
	if n := rc.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
}

func TestMemoryReplayCacheConcurrent(t *testing.T) {
	rc := identity.NewMemoryReplayCache(identity.WithClock(fixedAt(t0)))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			err := rc.MarkUsed(context.Background(), "same", t0.Add(time.Minute))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, identity.ErrReplayed):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d calls marked the same jti, want exactly 1", wins.Load())
	}
}

// End to end: a single-use token is accepted once, whatever the verifier.
func TestReplayedJTIRefused(t *testing.T) {
	clk := newClock(t0)
	rc := identity.NewMemoryReplayCache(identity.WithClock(clk.Now))
	a := newVerifier(t, clk.Now, identity.WithReplayCache(rc))
	b := newVerifier(t, clk.Now, identity.WithReplayCache(rc)) // another replica sharing the cache
	token := mint(t, workerAgent(), identity.WithSingleUse())
	if _, err := a.Verify(context.Background(), bearer(token)); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*identity.JWTVerifier{"same verifier": a, "other verifier": b} {
		if _, err := v.Verify(context.Background(), bearer(token)); !errors.Is(err, identity.ErrReplayed) {
			t.Errorf("%s: err = %v, want ErrReplayed", name, err)
		}
	}
}
