package ratelimit_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/ratelimit"
)

// One million distinct agents inside one window are all admitted: the
// limiter used to refuse new agents once a shard of its table was full
// (agent #96,164 onward). Each keeps its count, and once their window has
// passed the memory they held is released as traffic goes on.
func TestMillionAgentsNeverRefusedForRoom(t *testing.T) {
	n := 1_000_000 // 4 s, 260 MB
	if testing.Short() || raceEnabled {
		n = 200_000 // still twice what the old table admitted
	}
	// A clock without a lock: the race detector makes locking a clock a
	// million times slow.
	var elapsed atomic.Int64
	start := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	advance := func(d time.Duration) { elapsed.Add(int64(d)) }
	l, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{{MaxCalls: 1, Window: time.Minute}},
		ratelimit.WithClock(func() time.Time { return start.Add(time.Duration(elapsed.Load())) }))
	if err != nil {
		t.Fatal(err)
	}
	req := call("t", tollgate.EffectRead)
	base := liveHeap()
	step := 50 * time.Second / time.Duration(n) // every call inside one window
	callers(n, "agent-", func(i int, a tollgate.Agent) {
		if res, _ := l.Allow(context.Background(), a, req); !res.Allowed {
			t.Fatalf("agent #%d of %d refused: %s", i+1, n, res.Reason)
		}
		advance(step)
	})
	if got := l.Tracked(); got != n {
		t.Fatalf("%d agents tracked, want %d", got, n)
	}
	for i := 0; i < n; i += n / 100 { // every agent kept its count
		mustRefuse(t, l, "agent-"+strconv.Itoa(i), req)
	}
	held := liveHeap() - base
	t.Logf("%d agents hold %.1f MiB, %d bytes each", n, float64(held)/(1<<20), held/int64(n))

	advance(time.Minute) // every agent is idle now
	late := n / 4
	callers(late, "late-", func(i int, a tollgate.Agent) {
		if res, _ := l.Allow(context.Background(), a, req); !res.Allowed {
			t.Fatalf("late agent #%d refused: %s", i+1, res.Reason)
		}
	})
	if got := l.Tracked(); got > late+late/10 {
		t.Errorf("%d agents tracked after the first %d went idle and %d others called, want about %d", got, n, late, late)
	}
	if now := liveHeap() - base; now > held/2 {
		t.Errorf("live heap %.1f MiB after the window, was %.1f MiB: idle agents' memory not released",
			float64(now)/(1<<20), float64(held)/(1<<20))
	}
	runtime.KeepAlive(l)
}

// callers calls f with n distinct agents, ids prefix0, prefix1, ….
func callers(n int, prefix string, f func(int, tollgate.Agent)) {
	id := []byte(prefix)
	for i := range n {
		f(i, tollgate.Agent{ID: string(strconv.AppendInt(id[:len(prefix)], int64(i), 10))})
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
