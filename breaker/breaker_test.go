package breaker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/breaker"
)

var _ breaker.Breaker = (*breaker.Breakers)(nil)

// recorder collects OnStateChange calls.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) record(tool, from, to string) {
	r.mu.Lock()
	r.log = append(r.log, tool+": "+from+" -> "+to)
	r.mu.Unlock()
}

func (r *recorder) changes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

func newBreakers(t testing.TB, s breaker.Settings) *breaker.Breakers {
	t.Helper()
	b, err := breaker.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// admit calls Allow and fails the test if the call is refused.
func admit(t testing.TB, b breaker.Breaker, tool string) func(breaker.Outcome) {
	t.Helper()
	done, err := b.Allow(context.Background(), tool)
	if err != nil {
		t.Fatalf("Allow(%s): %v", tool, err)
	}
	if done == nil {
		t.Fatalf("Allow(%s): nil done", tool)
	}
	return done
}

// refuse calls Allow and returns the *OpenError it must return.
func refuse(t testing.TB, b breaker.Breaker, tool string) *breaker.OpenError {
	t.Helper()
	done, err := b.Allow(context.Background(), tool)
	var oe *breaker.OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("Allow(%s) = %v, want *OpenError", tool, err)
	}
	if done != nil || oe.Tool != tool {
		t.Fatalf("refusal of %s: done=%v, OpenError.Tool=%q", tool, done != nil, oe.Tool)
	}
	return oe
}

func report(t testing.TB, b breaker.Breaker, tool string, outcomes ...breaker.Outcome) {
	t.Helper()
	for _, o := range outcomes {
		admit(t, b, tool)(o)
	}
}

func wantState(t testing.TB, b *breaker.Breakers, tool, want string) {
	t.Helper()
	if got := b.State(tool); got != want {
		t.Fatalf("State(%s) = %s, want %s", tool, got, want)
	}
}

// awaitHalfOpen waits for a circuit with a 1ns cooldown to read half-open;
// it polls (no sleep) and gives up after a second.
func awaitHalfOpen(t testing.TB, b *breaker.Breakers, tool string) {
	t.Helper()
	for start := time.Now(); b.State(tool) != breaker.HalfOpen; {
		if time.Since(start) > time.Second {
			t.Fatalf("%s did not become half-open: %s", tool, b.State(tool))
		}
	}
}

const (
	S = breaker.Success
	F = breaker.Failure
	I = breaker.Ignored
)

var t0 = time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)

// §17: a new circuit is closed.
func TestNewCircuitIsClosed(t *testing.T) {
	b := newBreakers(t, breaker.Settings{})
	wantState(t, b, "tool_a", breaker.Closed)
	admit(t, b, "tool_a")(S)
	wantState(t, b, "tool_a", breaker.Closed)
}

// §17: 2 failures with threshold 3 keep the circuit closed and calls allowed.
func TestFailuresBelowThresholdKeepCircuitClosed(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 3})
	report(t, b, "tool_a", F, F)
	wantState(t, b, "tool_a", breaker.Closed)
	admit(t, b, "tool_a")
}

// §17: 3 failures with threshold 3 open the circuit; calls are refused with
// Tollgate's reason text.
func TestThresholdFailuresOpenCircuit(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 3, Clock: func() time.Time { return t0 }})
	report(t, b, "tool_a", F, F, F)
	wantState(t, b, "tool_a", breaker.Open)
	oe := refuse(t, b, "tool_a")
	want := "Circuit OPEN for tool_a: 60.0s remaining in cooldown (opened after 3 consecutive failures)"
	if oe.Reason != want || oe.Error() != want {
		t.Errorf("reason = %q, want %q", oe.Reason, want)
	}
}

// RetryAfter and the seconds in the reason come from the injected clock.
func TestRetryAfterFromInjectedClock(t *testing.T) {
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, Cooldown: time.Hour, Clock: clock})
	report(t, b, "api:fetch", F)
	now.Add(int64(12*time.Minute + 340*time.Millisecond))
	oe := refuse(t, b, "api:fetch")
	if want := 47*time.Minute + 59*time.Second + 660*time.Millisecond; oe.RetryAfter != want {
		t.Errorf("RetryAfter = %v, want %v", oe.RetryAfter, want)
	}
	if !strings.Contains(oe.Reason, ": 2879.7s remaining in cooldown (opened after 1 consecutive failures)") {
		t.Errorf("reason = %q", oe.Reason)
	}
	now.Add(int64(2 * time.Hour)) // the fake clock is past the cooldown, the real one is not
	if oe := refuse(t, b, "api:fetch"); oe.RetryAfter != 0 {
		t.Errorf("RetryAfter past the cooldown = %v, want 0", oe.RetryAfter)
	}
}

// §17: threshold 2, tiny cooldown: after 2 failures the next call is
// allowed and the circuit is half-open.
func TestCircuitHalfOpensAfterCooldown(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 2, Cooldown: time.Nanosecond})
	report(t, b, "tool_a", F, F)
	awaitHalfOpen(t, b, "tool_a")
	admit(t, b, "tool_a")
	wantState(t, b, "tool_a", breaker.HalfOpen)
}

// §17: half-open + success → closed.
func TestHalfOpenSuccessClosesCircuit(t *testing.T) {
	rec := new(recorder)
	b := newBreakers(t, breaker.Settings{FailureThreshold: 2, Cooldown: time.Nanosecond, OnStateChange: rec.record})
	report(t, b, "tool_a", F, F)
	awaitHalfOpen(t, b, "tool_a")
	report(t, b, "tool_a", S)
	wantState(t, b, "tool_a", breaker.Closed)
	want := []string{"tool_a: closed -> open", "tool_a: open -> half_open", "tool_a: half_open -> closed"}
	if got := rec.changes(); !slices.Equal(got, want) {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

// §17: half-open + failure → open (the cooldown restarts).
func TestHalfOpenFailureReopensCircuit(t *testing.T) {
	rec := new(recorder)
	b := newBreakers(t, breaker.Settings{FailureThreshold: 2, Cooldown: time.Nanosecond, OnStateChange: rec.record})
	report(t, b, "tool_a", F, F)
	awaitHalfOpen(t, b, "tool_a")
	report(t, b, "tool_a", F)
	want := []string{"tool_a: closed -> open", "tool_a: open -> half_open", "tool_a: half_open -> open"}
	if got := rec.changes(); !slices.Equal(got, want) {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

// §17: failures must be consecutive: F F S F F with threshold 3 stays closed.
func TestSuccessEndsRunOfFailures(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 3})
	report(t, b, "tool_a", F, F, S, F, F)
	wantState(t, b, "tool_a", breaker.Closed)
}

// Ignored outcomes (calls refused later, cancelled calls) neither count as
// failures nor end a run of failures, and create no circuit.
func TestIgnoredOutcomesDoNotCount(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 2})
	report(t, b, "quiet", I, I, I, I, I, breaker.Outcome(99))
	if got := b.States(); len(got) != 0 {
		t.Errorf("States() = %v, want no circuits", got)
	}
	report(t, b, "tool_a", F, I, I, I)
	wantState(t, b, "tool_a", breaker.Closed)
	report(t, b, "tool_a", F)
	wantState(t, b, "tool_a", breaker.Open)
}

// §18.5 #28: a half-open circuit admits HalfOpenMaxCalls trial calls at a
// time; an Ignored trial call frees its slot; it closes after that many
// successes.
func TestHalfOpenAdmitsOnlyMaxCalls(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, Cooldown: time.Nanosecond, HalfOpenMaxCalls: 2})
	report(t, b, "t", F)
	awaitHalfOpen(t, b, "t")
	p1, p2 := admit(t, b, "t"), admit(t, b, "t")
	oe := refuse(t, b, "t")
	if oe.Reason != "Circuit HALF_OPEN for t: 2 trial call(s) already in flight; retry shortly" || oe.RetryAfter != 0 {
		t.Errorf("refusal = %q, %v", oe.Reason, oe.RetryAfter)
	}
	p1(I)
	p3 := admit(t, b, "t")
	refuse(t, b, "t")
	p2(S)
	wantState(t, b, "t", breaker.HalfOpen)
	p3(S)
	wantState(t, b, "t", breaker.Closed)
}

func TestHalfOpenProbesLimitedUnderConcurrency(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, Cooldown: time.Nanosecond})
	report(t, b, "t", F)
	awaitHalfOpen(t, b, "t")
	var admitted atomic.Int32
	var wg sync.WaitGroup
	dones := make(chan func(breaker.Outcome), 64)
	for range 64 {
		wg.Go(func() {
			if done, err := b.Allow(context.Background(), "t"); err == nil {
				admitted.Add(1)
				dones <- done
			}
		})
	}
	wg.Wait()
	close(dones)
	if n := admitted.Load(); n != 1 {
		t.Fatalf("%d concurrent calls admitted while half-open, want 1", n)
	}
	for done := range dones {
		done(S)
	}
	wantState(t, b, "t", breaker.Closed)
}

// §17: circuits are per tool.
func TestCircuitsArePerTool(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 2})
	report(t, b, "tool_a", F, F)
	refuse(t, b, "tool_a")
	admit(t, b, "tool_b")
	wantState(t, b, "tool_b", breaker.Closed)
}

// §17: reset(tool) closes that circuit; reset() closes all.
func TestResetClosesCircuits(t *testing.T) {
	rec := new(recorder)
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, OnStateChange: rec.record})
	report(t, b, "tool_a", F)
	report(t, b, "tool_b", F)
	stale := admit(t, b, "tool_c")
	report(t, b, "tool_c", F)
	b.Reset("tool_a")
	wantState(t, b, "tool_a", breaker.Closed)
	wantState(t, b, "tool_b", breaker.Open)
	admit(t, b, "tool_a")
	b.ResetAll()
	if got := b.States(); len(got) != 0 {
		t.Errorf("States() after ResetAll = %v, want none", got)
	}
	stale(S) // an outcome from before the reset changes nothing
	wantState(t, b, "tool_c", breaker.Closed)
	got := rec.changes()
	slices.Sort(got)
	want := []string{
		"tool_a: closed -> open", "tool_a: open -> closed",
		"tool_b: closed -> open", "tool_b: open -> closed",
		"tool_c: closed -> open", "tool_c: open -> closed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

// §17: get_all_states lists every circuit with its state.
func TestStatesListsCircuits(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 2})
	report(t, b, "tool_a", F, F)
	report(t, b, "tool_b", F)
	got := b.States()
	if len(got) != 2 || got["tool_a"] != breaker.Open || got["tool_b"] != breaker.Closed {
		t.Errorf("States() = %v, want tool_a open and tool_b closed", got)
	}
}

// Tool names are keys as they are: no "tool:action" concatenation to collide.
func TestToolNamesDoNotCollide(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1})
	report(t, b, "a:b", F)
	admit(t, b, "a")
	admit(t, b, "a:b:")
	refuse(t, b, "a:b")
}

func TestDefaults(t *testing.T) {
	b := newBreakers(t, breaker.Settings{Clock: func() time.Time { return t0 }})
	report(t, b, "t", F, F, F, F)
	wantState(t, b, "t", breaker.Closed)
	report(t, b, "t", F)
	oe := refuse(t, b, "t")
	if oe.RetryAfter != 60*time.Second || !strings.HasSuffix(oe.Reason, "60.0s remaining in cooldown (opened after 5 consecutive failures)") {
		t.Errorf("refusal = %q, %v", oe.Reason, oe.RetryAfter)
	}
}

func TestNegativeCooldownRejected(t *testing.T) {
	_, err := breaker.New(breaker.Settings{Cooldown: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "cooldown_seconds must be > 0") {
		t.Fatalf("err = %v, want a cooldown_seconds error", err)
	}
}

// A failure of a call admitted before the tool had a circuit is dropped when
// the circuit has meanwhile left the closed state; it must not take a
// half-open trial slot or reopen the circuit.
func TestStaleFailureDropped(t *testing.T) {
	rec := new(recorder)
	b := newBreakers(t, breaker.Settings{FailureThreshold: 1, Cooldown: time.Nanosecond, OnStateChange: rec.record})
	stale := admit(t, b, "t")
	report(t, b, "t", F)
	awaitHalfOpen(t, b, "t")
	stale(F)
	admit(t, b, "t")
	want := []string{"t: closed -> open", "t: open -> half_open"}
	if got := rec.changes(); !slices.Equal(got, want) {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

func TestConcurrentFailuresOpenCircuit(t *testing.T) {
	b := newBreakers(t, breaker.Settings{FailureThreshold: 5})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				tool := []string{"a", "b"}[(g+i)%2]
				if done, err := b.Allow(context.Background(), tool); err == nil {
					done(F)
				}
				_ = b.States()
			}
		})
	}
	wg.Wait()
	wantState(t, b, "a", breaker.Open)
	wantState(t, b, "b", breaker.Open)
}

func TestBreakerFunc(t *testing.T) {
	var got []breaker.Outcome
	f := breaker.BreakerFunc(func(_ context.Context, tool string) (func(breaker.Outcome), error) {
		if tool == "down" {
			return nil, &breaker.OpenError{Tool: tool, Reason: "down"}
		}
		return func(o breaker.Outcome) { got = append(got, o) }, nil
	})
	report(t, f, "up", S, F)
	refuse(t, f, "down")
	if !slices.Equal(got, []breaker.Outcome{S, F}) {
		t.Errorf("outcomes = %v", got)
	}
}
