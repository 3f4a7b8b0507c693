package redisstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/internal/redistest"
)

func TestRedisReplayCacheMarksOnce(t *testing.T) {
	rc, ctx := New(newClient(t)).ReplayCache(), t.Context()
	exp := time.Now().Add(time.Hour)
	if err := rc.MarkUsed(ctx, "jti-1", exp); err != nil {
		t.Fatalf("first MarkUsed: %v", err)
	}
	if err := rc.MarkUsed(ctx, "jti-1", exp); !errors.Is(err, identity.ErrReplayed) {
		t.Errorf("second MarkUsed: err = %v, want ErrReplayed", err)
	}
	if err := rc.MarkUsed(ctx, "jti-2", exp); err != nil {
		t.Errorf("other jti: %v", err)
	}
}

// Redis forgets a token when it expires, rounded up to the next millisecond
// so that it is never forgotten early.
func TestRedisReplayCacheExpiresWithToken(t *testing.T) {
	s, c := newTestStore(t)
	ms := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for jti, exp := range map[string]time.Time{"whole": ms, "fraction": ms.Add(300 * time.Microsecond)} {
		if err := s.ReplayCache().MarkUsed(t.Context(), jti, exp); err != nil {
			t.Fatal(err)
		}
		want := ms
		if jti == "fraction" {
			want = ms.Add(time.Millisecond)
		}
		at, err := c.PExpireTime(t.Context(), s.ReplayKey(jti)).Result()
		if err != nil || at != time.Duration(want.UnixMilli())*time.Millisecond {
			t.Errorf("%s: PEXPIRETIME = %v, %v; want %d ms", jti, at, err, want.UnixMilli())
		}
	}
}

func TestRedisReplayCacheConcurrentReplicas(t *testing.T) {
	srv := redistest.Start(t)
	caches := [2]*ReplayCache{New(srv.Client(t)).ReplayCache(), New(srv.Client(t)).ReplayCache()}
	exp := time.Now().Add(time.Hour)
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			switch err := caches[i%2].MarkUsed(t.Context(), "jti", exp); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, identity.ErrReplayed):
				replays.Add(1)
			default:
				t.Errorf("MarkUsed: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != 49 {
		t.Errorf("50 concurrent MarkUsed: %d succeeded, %d replays; want 1 and 49", wins.Load(), replays.Load())
	}
}

// An expired token is not recorded (no verifier accepts it), as in
// identity.MemoryReplayCache.
func TestRedisReplayCacheExpiredToken(t *testing.T) {
	s, c := newTestStore(t)
	rc := s.ReplayCache()
	for _, exp := range []time.Time{time.Now().Add(-time.Minute), time.Unix(-5, 0)} {
		for range 2 {
			if err := rc.MarkUsed(t.Context(), "old", exp); err != nil {
				t.Errorf("MarkUsed(expired %v): %v", exp, err)
			}
		}
	}
	if n, _ := c.Exists(t.Context(), s.ReplayKey("old")).Result(); n != 0 {
		t.Error("an expired token was recorded")
	}
}

func TestRedisReplayCacheRefusesBadArguments(t *testing.T) {
	c := newClient(t)
	rc := New(c).ReplayCache()
	exp := time.Now().Add(time.Hour)
	for name, err := range map[string]error{
		"empty jti":   rc.MarkUsed(t.Context(), "", exp),
		"zero expiry": rc.MarkUsed(t.Context(), "jti", time.Time{}),
		"canceled":    rc.MarkUsed(canceled(), "jti", exp),
	} {
		if err == nil || errors.Is(err, identity.ErrReplayed) {
			t.Errorf("%s: err = %v, want a refusal", name, err)
		}
	}
	c.Close()
	if err := rc.MarkUsed(context.Background(), "jti", exp); err == nil || errors.Is(err, identity.ErrReplayed) {
		t.Errorf("without a server: err = %v, want a refusal", err)
	}
}
