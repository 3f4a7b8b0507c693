package ratelimit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/ratelimit"
)

var anyRule = ratelimit.Rule{AgentID: "*", Tool: "*"}

func perMinute(r ratelimit.Rule, n int) ratelimit.Rule {
	r.MaxCalls, r.Window = n, time.Minute
	return r
}

// §17: `* / * / 5 per 60s`: five calls allowed with no reason.
func TestFiveCallsWithinLimitAllowed(t *testing.T) {
	l := newLimiter(t, newFakeClock(), perMinute(anyRule, 5))
	mustAllow(t, l, 5, "agent-1", call("api:fetch", tollgate.EffectRead))
}

// §17: `3 per 60s`: 3 allowed, the 4th refused with a reason and a retry
// time. The retry time is when the oldest counted call leaves the window.
func TestCallOverLimitRefusedWithReasonAndRetryAfter(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(t, clock, perMinute(anyRule, 3))
	req := call("api:fetch", tollgate.EffectRead)
	for range 3 {
		mustAllow(t, l, 1, "agent-1", req)
		clock.Advance(10 * time.Second)
	}
	res := mustRefuse(t, l, "agent-1", req) // at t=30s; oldest call at t=0
	want := "Rate limit exceeded: 3/3 calls in 60s window (agent=agent-1, tool=*, effect=*)"
	if res.Reason != want {
		t.Errorf("reason = %q, want %q", res.Reason, want)
	}
	if res.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", res.RetryAfter)
	}
	if res.Rule != 0 {
		t.Errorf("Rule = %d, want 0", res.Rule)
	}
}

// §17: write-only rule 2/60s: reads are not counted; the 3rd write is refused.
func TestEffectRuleCountsOnlyThatEffect(t *testing.T) {
	l := newLimiter(t, newFakeClock(), ratelimit.Rule{Effect: tollgate.EffectWrite, MaxCalls: 2, Window: time.Minute})
	mustAllow(t, l, 10, "agent-1", call("api:fetch", tollgate.EffectRead))
	mustAllow(t, l, 2, "agent-1", call("api:write", tollgate.EffectWrite))
	res := mustRefuse(t, l, "agent-1", call("api:write", tollgate.EffectWrite))
	if !strings.HasSuffix(res.Reason, "(agent=agent-1, tool=*, effect=write)") {
		t.Errorf("reason = %q, want the rule's effect", res.Reason)
	}
}

// §17: `tool: "mcp:*"` 2/60s counts all MCP tools of an agent together and
// leaves other tools alone.
func TestPrefixToolRuleCountsFamilyTogether(t *testing.T) {
	l := newLimiter(t, newFakeClock(), ratelimit.Rule{Tool: "mcp:*", MaxCalls: 2, Window: time.Minute})
	mustAllow(t, l, 1, "agent-1", call("mcp:server.read", tollgate.EffectRead))
	mustAllow(t, l, 1, "agent-1", call("mcp:server.write", tollgate.EffectWrite))
	res := mustRefuse(t, l, "agent-1", call("mcp:other.tool", tollgate.EffectRead))
	if !strings.Contains(res.Reason, "tool=mcp:*") {
		t.Errorf("reason = %q, want tool=mcp:*", res.Reason)
	}
	mustAllow(t, l, 5, "agent-1", call("langchain:tool", tollgate.EffectRead))
}

func TestExactToolRule(t *testing.T) {
	l := newLimiter(t, newFakeClock(), ratelimit.Rule{Tool: "api:fetch", MaxCalls: 1, Window: time.Minute})
	mustAllow(t, l, 1, "agent-1", call("api:fetch", tollgate.EffectRead))
	mustRefuse(t, l, "agent-1", call("api:fetch", tollgate.EffectRead))
	mustAllow(t, l, 3, "agent-1", call("api:fetch2", tollgate.EffectRead))
}

// §17: reset() clears state: allowed, refused, reset, allowed again.
func TestResetAllClearsCounts(t *testing.T) {
	l := newLimiter(t, newFakeClock(), perMinute(anyRule, 1))
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 1, "agent-1", req)
	mustRefuse(t, l, "agent-1", req)
	l.ResetAll()
	mustAllow(t, l, 1, "agent-1", req)
}

// Tollgate's reset(agent_id) cleared every bucket whose key ended in
// "|agent_id", so resetting "b" also reset "a|b". Reset here is exact.
func TestResetForgetsExactlyOneAgent(t *testing.T) {
	l := newLimiter(t, newFakeClock(), perMinute(anyRule, 1))
	req := call("t", tollgate.EffectRead)
	for _, id := range []string{"b", "a|b", "*|*|*|b"} {
		mustAllow(t, l, 1, id, req)
		mustRefuse(t, l, id, req)
	}
	l.Reset("b")
	mustAllow(t, l, 1, "b", req)
	mustRefuse(t, l, "a|b", req)
	mustRefuse(t, l, "*|*|*|b", req)
}

// §18.5 #25: on Tollgate, rules [all 5/60s, writes 1/60s] after five write
// attempts (one allowed, four refused) have the "all" bucket full, so reads
// are refused too. Here a refused call uses no quota.
func TestRefusedCallConsumesNoQuota(t *testing.T) {
	l := newLimiter(t, newFakeClock(),
		perMinute(anyRule, 5),
		perMinute(ratelimit.Rule{Effect: tollgate.EffectWrite}, 1),
	)
	write := call("api:write", tollgate.EffectWrite)
	mustAllow(t, l, 1, "agent-1", write)
	for range 4 {
		if res := mustRefuse(t, l, "agent-1", write); res.Rule != 1 {
			t.Fatalf("write refused by rule %d, want 1 (writes)", res.Rule)
		}
	}
	// One write counted in the "all" rule, so four reads fit, not zero.
	mustAllow(t, l, 4, "agent-1", call("api:fetch", tollgate.EffectRead))
	res := mustRefuse(t, l, "agent-1", call("api:fetch", tollgate.EffectRead))
	if res.Rule != 0 || !strings.HasPrefix(res.Reason, "Rate limit exceeded: 5/5 calls") {
		t.Errorf("got rule %d %q, want rule 0 with 5/5", res.Rule, res.Reason)
	}
}

// A log keeps only calls strictly newer than now − window.
func TestWindowSlides(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(t, clock, ratelimit.Rule{MaxCalls: 2, Window: 10 * time.Second})
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 1, "a", req) // t=0
	clock.Advance(5 * time.Second)
	mustAllow(t, l, 1, "a", req) // t=5
	clock.Advance(4 * time.Second)
	if res := mustRefuse(t, l, "a", req); res.RetryAfter != time.Second { // t=9
		t.Errorf("RetryAfter at t=9 = %v, want 1s", res.RetryAfter)
	}
	clock.Advance(time.Second)
	mustAllow(t, l, 1, "a", req) // t=10: the call at t=0 is exactly one window old and left
	clock.Advance(4 * time.Second)
	if res := mustRefuse(t, l, "a", req); res.RetryAfter != time.Second { // t=14, oldest t=5
		t.Errorf("RetryAfter at t=14 = %v, want 1s", res.RetryAfter)
	}
	clock.Advance(time.Second)
	mustAllow(t, l, 1, "a", req) // t=15
}

func TestEachAgentHasItsOwnCount(t *testing.T) {
	l := newLimiter(t, newFakeClock(), perMinute(anyRule, 2))
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 2, "agent-1", req)
	mustRefuse(t, l, "agent-1", req)
	mustAllow(t, l, 2, "agent-2", req)
}

func TestAgentRuleAppliesOnlyToThatAgent(t *testing.T) {
	l := newLimiter(t, newFakeClock(), perMinute(ratelimit.Rule{AgentID: "bot"}, 1))
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 1, "bot", req)
	mustRefuse(t, l, "bot", req)
	mustAllow(t, l, 10, "bot2", req)
}

// max_calls 0 refuses every call; with nothing counted the retry time is the
// whole window (as in Tollgate).
func TestZeroMaxCallsRefusesEverything(t *testing.T) {
	l := newLimiter(t, newFakeClock(), ratelimit.Rule{Tool: "danger", MaxCalls: 0, Window: 90 * time.Second})
	res := mustRefuse(t, l, "a", call("danger", tollgate.EffectDelete))
	want := "Rate limit exceeded: 0/0 calls in 90s window (agent=a, tool=danger, effect=*)"
	if res.Reason != want || res.RetryAfter != 90*time.Second {
		t.Errorf("got %q, %v; want %q, 1m30s", res.Reason, res.RetryAfter, want)
	}
}

// When several rules refuse, the first in list order gives the reason.
func TestFirstRefusingRuleGivesReason(t *testing.T) {
	l := newLimiter(t, newFakeClock(),
		ratelimit.Rule{Tool: "other", MaxCalls: 1, Window: time.Minute},
		ratelimit.Rule{Tool: "t", MaxCalls: 1, Window: 30 * time.Second},
		ratelimit.Rule{MaxCalls: 1, Window: time.Minute},
	)
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 1, "a", req)
	if res := mustRefuse(t, l, "a", req); res.Rule != 1 || !strings.Contains(res.Reason, "in 30s window") {
		t.Errorf("refused by rule %d (%q), want rule 1", res.Rule, res.Reason)
	}
}

// The reason text matches the one Tollgate wrote to
// examples/security_hardened/audit.jsonl byte for byte.
func TestReasonMatchesTollgateAuditLog(t *testing.T) {
	f, err := os.Open("testdata/security_hardened_audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type refusal struct{ agent, reason string }
	var recorded []refusal
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Agent struct {
				AgentID string `json:"agent_id"`
			} `json:"agent"`
			Decision struct{ Reason string } `json:"decision"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(ev.Decision.Reason, "Rate limit exceeded") {
			recorded = append(recorded, refusal{ev.Agent.AgentID, ev.Decision.Reason})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(recorded) == 0 {
		t.Fatal("no rate-limit refusal in the fixture")
	}
	// The demo's limiter: 10 calls per 60s for any agent and tool.
	for _, want := range recorded {
		l := newLimiter(t, newFakeClock(), perMinute(anyRule, 10))
		req := call("api:fetch_data", tollgate.EffectRead)
		mustAllow(t, l, 10, want.agent, req)
		if got := mustRefuse(t, l, want.agent, req).Reason; got != want.reason {
			t.Errorf("reason = %q, Tollgate wrote %q", got, want.reason)
		}
	}
}

// Go-built rules print whole seconds as integers and fractions as Python
// floats.
func TestWindowPrintedLikePython(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		want   string
	}{
		{time.Minute, " 60s window"},
		{500 * time.Millisecond, " 0.5s window"},
		{1500 * time.Millisecond, " 1.5s window"},
		{time.Nanosecond, " 1e-09s window"},
	} {
		l := newLimiter(t, newFakeClock(), ratelimit.Rule{Window: tc.window})
		if res := mustRefuse(t, l, "a", call("t", "read")); !strings.Contains(res.Reason, tc.want) {
			t.Errorf("window %v: reason %q, want %q", tc.window, res.Reason, tc.want)
		}
	}
}

func TestNewSlidingWindowRejectsBadRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule ratelimit.Rule
		opts []ratelimit.Option
		want string
	}{
		{"negative max", ratelimit.Rule{MaxCalls: -1, Window: time.Second}, nil, "rule 1: max_calls must be >= 0"},
		{"huge max", ratelimit.Rule{MaxCalls: ratelimit.MaxCallsLimit + 1, Window: time.Second}, nil, "max_calls must be at most 1000000"},
		{"zero window", ratelimit.Rule{MaxCalls: 1}, nil, "rule 1: window must be > 0"},
		{"negative window", ratelimit.Rule{MaxCalls: 1, Window: -time.Second}, nil, "window must be > 0"},
		{"window too long", ratelimit.Rule{MaxCalls: 1, Window: ratelimit.MaxWindow + 1}, nil, "is too long; the most is 3153600000 seconds"},
		{"upper-case effect", ratelimit.Rule{Effect: "WRITE", MaxCalls: 1, Window: time.Second}, nil, `effect "WRITE" is not an effect`},
		{"nil clock", ratelimit.Rule{MaxCalls: 1, Window: time.Second}, []ratelimit.Option{ratelimit.WithClock(nil)}, "clock is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{tc.rule}, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestStarAndEmptyMeanAny(t *testing.T) {
	l := newLimiter(t, newFakeClock(), ratelimit.Rule{AgentID: "*", Tool: "*", Effect: "*", MaxCalls: 1, Window: time.Minute})
	mustAllow(t, l, 1, "a", call("x", tollgate.EffectDelete))
	res := mustRefuse(t, l, "a", call("y", tollgate.EffectNotify))
	if !strings.HasSuffix(res.Reason, "(agent=a, tool=*, effect=*)") {
		t.Errorf("reason = %q", res.Reason)
	}
}

// Agents whose window has passed are forgotten as calls arrive, however
// many there were, while an agent still inside its window keeps its count.
func TestIdleAgentsForgottenActiveKept(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(t, clock, ratelimit.Rule{MaxCalls: 1, Window: 10 * time.Second})
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 1, "a", req) // t=0
	for i := range 10_000 {
		mustAllow(t, l, 1, fmt.Sprintf("other-%d", i), req)
	}
	clock.Advance(4 * time.Second)
	mustAllow(t, l, 1, "b", req)   // t=4
	clock.Advance(6 * time.Second) // t=10: "a" and the others idle, "b" not
	for i := range 10_000 {
		mustAllow(t, l, 1, fmt.Sprintf("new-%d", i), req)
	}
	if n := l.Tracked(); n > 10_001+1_000 {
		t.Errorf("%d agents tracked after the others' window passed, want about 10,001", n)
	}
	mustRefuse(t, l, "b", req) // b's count survived the churn
	mustAllow(t, l, 1, "a", req)
}

// Reset forgets an agent at once; the limiter's own record of when to look
// at it again must not later forget the agent's new counts.
func TestResetThenCallAgainKeepsNewCount(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(t, clock, ratelimit.Rule{MaxCalls: 1, Window: 10 * time.Second})
	req := call("t", tollgate.EffectRead)
	mustAllow(t, l, 1, "a", req) // t=0, due again at t=10
	l.Reset("a")
	clock.Advance(5 * time.Second)
	mustAllow(t, l, 1, "a", req) // t=5, counted until t=15
	clock.Advance(5 * time.Second)
	for i := range 100 { // t=10: expire the old record
		mustAllow(t, l, 1, fmt.Sprintf("other-%d", i), req)
	}
	mustRefuse(t, l, "a", req)
	l.ResetAll()
	mustAllow(t, l, 1, "a", req)
	if n := l.Tracked(); n != 1 {
		t.Errorf("%d agents tracked after ResetAll and one call, want 1", n)
	}
}

// Concurrent callers (new agents, repeat agents, resets) with the clock
// moving: no call is refused for lack of room, and idle agents are
// forgotten while shards sweep each other. (Exact counting under
// contention is TestConcurrentCallsCountedExactly.)
func TestConcurrentChurnNeverRefusesForRoom(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(t, clock, ratelimit.Rule{MaxCalls: 2, Window: time.Second})
	req := call("t", tollgate.EffectRead)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5_000 {
				id := fmt.Sprintf("g%d-%d", g, i)
				mustAllow(t, l, 2, id, req)
				if i%100 == 0 {
					l.Reset(id)
					clock.Advance(100 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	clock.Advance(time.Second) // every agent so far is idle
	for i := range 20_000 {
		mustAllow(t, l, 1, fmt.Sprintf("late-%d", i), req)
	}
	if n := l.Tracked(); n > 21_000 {
		t.Errorf("%d agents tracked, want the 20,000 late ones and few idle ones", n)
	}
}

// Calls no rule applies to are not tracked at all.
func TestUnmatchedCallsAreNotTracked(t *testing.T) {
	l := newLimiter(t, newFakeClock(), ratelimit.Rule{Tool: "limited", MaxCalls: 1, Window: time.Minute})
	for _, id := range []string{"a", "b", "c"} {
		mustAllow(t, l, 3, id, call("free", tollgate.EffectRead))
	}
	if n := l.Tracked(); n != 0 {
		t.Errorf("%d agents tracked, want 0", n)
	}
	mustAllow(t, l, 1, "a", call("limited", tollgate.EffectRead))
	if n := l.Tracked(); n != 1 {
		t.Errorf("%d agents tracked, want 1", n)
	}
}

func TestNoRulesAllowsEverything(t *testing.T) {
	l := newLimiter(t, newFakeClock())
	mustAllow(t, l, 100, "a", call("t", tollgate.EffectDelete))
}

// Concurrent callers never over-admit, and refused calls stay uncounted
// under contention: 10 of 100 racing writes pass, and then exactly 40 of 100
// racing reads fill the remaining room of the 50-call rule.
func TestConcurrentCallsCountedExactly(t *testing.T) {
	l := newLimiter(t, newFakeClock(),
		perMinute(anyRule, 50),
		perMinute(ratelimit.Rule{Effect: tollgate.EffectWrite}, 10),
	)
	race := func(effect tollgate.Effect) int64 {
		var n atomic.Int64
		var wg sync.WaitGroup
		for g := range 10 {
			wg.Go(func() {
				for range 10 {
					res, err := l.Allow(context.Background(), agent("a"), call("t", effect))
					if err != nil {
						t.Error(err)
					}
					if res.Allowed {
						n.Add(1)
					}
				}
				// Other agents at the same time exercise other shards.
				mustAllow(t, l, 1, fmt.Sprintf("agent-%d-%s", g, effect), call("t", effect))
			})
		}
		wg.Wait()
		return n.Load()
	}
	if n := race(tollgate.EffectWrite); n != 10 {
		t.Errorf("%d writes allowed, want 10", n)
	}
	if n := race(tollgate.EffectRead); n != 40 {
		t.Errorf("%d reads allowed, want 40", n)
	}
}

func TestUnlimitedAndLimiterFunc(t *testing.T) {
	mustAllow(t, ratelimit.Unlimited, 3, "a", call("t", tollgate.EffectDelete))
	refuseAll := ratelimit.LimiterFunc(func(context.Context, tollgate.Agent, tollgate.ToolRequest) (ratelimit.Result, error) {
		return ratelimit.Result{Reason: "no", Rule: -1}, nil
	})
	if res := mustRefuse(t, refuseAll, "a", call("t", tollgate.EffectRead)); res.Reason != "no" {
		t.Errorf("reason = %q", res.Reason)
	}
}
