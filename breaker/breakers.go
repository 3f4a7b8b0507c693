package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Breakers keeps one circuit per tool, on sony/gobreaker's two-step circuit
// breaker. It is safe for concurrent use.
//
// A tool gets a circuit at its first failure (as in Tollgate), so memory
// grows only with tools that actually ran and failed; until then Allow lets
// its calls through without locking anything. Circuits are keyed by the
// exact tool name, so names cannot collide.
type Breakers struct {
	s        Settings
	circuits sync.Map // tool name → *circuit
}

type circuit struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]
	// openedAt is the Settings.Clock reading (Unix ns) when the circuit last
	// opened, for RetryAfter.
	openedAt atomic.Int64
}

// The errors handed to gobreaker for each Outcome.
var (
	errFailure = errors.New("breaker: tool failed")
	errIgnored = errors.New("breaker: outcome ignored")
)

// New returns Breakers with the given settings (zero fields take their
// defaults). It fails only for a negative Cooldown.
func New(s Settings) (*Breakers, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Breakers{s: s}, nil
}

// Allow admits a call to tool unless its circuit is open, or half-open with
// HalfOpenMaxCalls trial calls already in flight; then err is an *OpenError.
// The caller reports the admitted call's Outcome through done, exactly once.
func (b *Breakers) Allow(_ context.Context, tool string) (func(Outcome), error) {
	v, ok := b.circuits.Load(tool)
	if !ok {
		return func(o Outcome) {
			if o == Failure {
				b.firstFailure(tool)
			}
		}, nil
	}
	c := v.(*circuit)
	done, err := c.cb.Allow()
	if err != nil {
		return nil, b.refusal(tool, c, err)
	}
	return func(o Outcome) { done(outcomeErr(o)) }, nil
}

func outcomeErr(o Outcome) error {
	switch o {
	case Success:
		return nil
	case Failure:
		return errFailure
	}
	return errIgnored
}

// firstFailure records the failure of a call admitted while tool had no
// circuit, creating one. If another call created the circuit meanwhile and
// it has left the closed state, the failure is stale and dropped, as
// gobreaker drops outcomes from an earlier generation.
func (b *Breakers) firstFailure(tool string) {
	v, ok := b.circuits.Load(tool)
	if !ok {
		v, _ = b.circuits.LoadOrStore(tool, b.newCircuit(tool))
	}
	c := v.(*circuit)
	if c.cb.State() != gobreaker.StateClosed {
		return
	}
	if done, err := c.cb.Allow(); err == nil {
		done(errFailure)
	}
}

func (b *Breakers) newCircuit(tool string) *circuit {
	c := new(circuit)
	threshold := b.s.FailureThreshold
	c.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        tool,
		MaxRequests: b.s.HalfOpenMaxCalls,
		Timeout:     b.s.Cooldown,
		// Interval 0: counts are never cleared while closed, so only
		// consecutive failures trip the circuit, as in Tollgate.
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= threshold },
		IsExcluded:  func(err error) bool { return err == errIgnored },
		OnStateChange: func(name string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				c.openedAt.Store(b.s.Clock().UnixNano())
			}
			if b.s.OnStateChange != nil && b.current(name, c) {
				b.s.OnStateChange(name, stateName(from), stateName(to))
			}
		},
	})
	return c
}

// current reports whether c is still tool's circuit (not replaced by Reset).
func (b *Breakers) current(tool string, c *circuit) bool {
	v, ok := b.circuits.Load(tool)
	return ok && v.(*circuit) == c
}

func (b *Breakers) refusal(tool string, c *circuit, err error) *OpenError {
	if errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &OpenError{Tool: tool, Reason: fmt.Sprintf(
			"Circuit HALF_OPEN for %s: %d trial call(s) already in flight; retry shortly",
			tool, b.s.HalfOpenMaxCalls)}
	}
	elapsed := time.Duration(b.s.Clock().UnixNano() - c.openedAt.Load())
	remaining := min(max(b.s.Cooldown-elapsed, 0), b.s.Cooldown)
	return &OpenError{Tool: tool, RetryAfter: remaining, Reason: fmt.Sprintf(
		"Circuit OPEN for %s: %.1fs remaining in cooldown (opened after %d consecutive failures)",
		tool, remaining.Seconds(), b.s.FailureThreshold)}
}

func stateName(s gobreaker.State) string {
	switch s {
	case gobreaker.StateOpen:
		return Open
	case gobreaker.StateHalfOpen:
		return HalfOpen
	}
	return Closed
}

// State returns tool's circuit state: Closed, Open or HalfOpen. A tool that
// never failed is Closed. An open circuit whose cooldown has passed reads as
// HalfOpen.
func (b *Breakers) State(tool string) string {
	v, ok := b.circuits.Load(tool)
	if !ok {
		return Closed
	}
	return stateName(v.(*circuit).cb.State())
}

// States returns the state of every tool that has a circuit (every tool
// that failed since it was last reset).
func (b *Breakers) States() map[string]string {
	out := make(map[string]string)
	b.circuits.Range(func(k, v any) bool {
		out[k.(string)] = stateName(v.(*circuit).cb.State())
		return true
	})
	return out
}

// Reset closes tool's circuit and forgets its failures. Outcomes later
// reported for calls the old circuit admitted are ignored.
func (b *Breakers) Reset(tool string) {
	v, ok := b.circuits.LoadAndDelete(tool)
	if ok {
		b.reportReset(tool, v.(*circuit))
	}
}

// ResetAll resets every tool's circuit.
func (b *Breakers) ResetAll() {
	b.circuits.Range(func(k, _ any) bool {
		b.Reset(k.(string))
		return true
	})
}

func (b *Breakers) reportReset(tool string, c *circuit) {
	if from := stateName(c.cb.State()); b.s.OnStateChange != nil && from != Closed {
		b.s.OnStateChange(tool, from, Closed)
	}
}
