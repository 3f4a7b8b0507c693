package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/ratelimit"
)

// fakeClock is a settable time source; tests move it instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLimiter(t testing.TB, clock *fakeClock, rules ...ratelimit.Rule) *ratelimit.SlidingWindow {
	t.Helper()
	l, err := ratelimit.NewSlidingWindow(rules, ratelimit.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func agent(id string) tollgate.Agent { return tollgate.Agent{ID: id} }

func call(tool string, effect tollgate.Effect) tollgate.ToolRequest {
	return tollgate.ToolRequest{Tool: tool, Effect: effect}
}

func allow(t testing.TB, l ratelimit.Limiter, agentID string, req tollgate.ToolRequest) ratelimit.Result {
	t.Helper()
	res, err := l.Allow(context.Background(), agent(agentID), req)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	if res.Allowed && (res.Reason != "" || res.Rule != -1 || res.RetryAfter != 0) || !res.Allowed && res.Reason == "" {
		t.Fatalf("inconsistent result %+v", res)
	}
	return res
}

// mustAllow asserts that n calls in a row are allowed.
func mustAllow(t testing.TB, l ratelimit.Limiter, n int, agentID string, req tollgate.ToolRequest) {
	t.Helper()
	for i := range n {
		if res := allow(t, l, agentID, req); !res.Allowed {
			t.Fatalf("call %d of %d by %s to %s refused: %s", i+1, n, agentID, req.Tool, res.Reason)
		}
	}
}

func mustRefuse(t testing.TB, l ratelimit.Limiter, agentID string, req tollgate.ToolRequest) ratelimit.Result {
	t.Helper()
	res := allow(t, l, agentID, req)
	if res.Allowed {
		t.Fatalf("call by %s to %s allowed, want refused", agentID, req.Tool)
	}
	return res
}
