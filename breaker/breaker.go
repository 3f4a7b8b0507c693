package breaker

import (
	"context"
	"time"
)

// Breaker decides whether a tool may be called now, given how its recent
// calls went.
//
// When Allow lets a call through, the caller must call done exactly once,
// with how the call ended. When it refuses, err is an *OpenError and done is
// nil.
type Breaker interface {
	Allow(ctx context.Context, tool string) (done func(Outcome), err error)
}

// BreakerFunc adapts a function to the Breaker interface.
type BreakerFunc func(ctx context.Context, tool string) (done func(Outcome), err error)

// Allow calls f.
func (f BreakerFunc) Allow(ctx context.Context, tool string) (func(Outcome), error) {
	return f(ctx, tool)
}

// Outcome is how an admitted call ended, as far as the breaker cares.
type Outcome uint8

const (
	// Ignored: the call says nothing about the tool's health (it was refused
	// later in the pipeline, or cancelled) and counts neither way. It is the
	// zero value, and unknown Outcome values are treated the same way.
	Ignored Outcome = iota
	// Success: the tool ran and returned. It ends a run of failures and, in
	// the half-open state, counts towards closing the circuit.
	Success
	// Failure: the tool returned an error or panicked.
	Failure
)

// The circuit states, spelled as Tollgate's CircuitState values.
const (
	Closed   = "closed"
	Open     = "open"
	HalfOpen = "half_open"
)

// OpenError is the refusal of a call because its tool's circuit is open, or
// half-open with all its trial calls already in flight.
type OpenError struct {
	Tool string
	// RetryAfter is how long until the cooldown ends (measured on
	// Settings.Clock); zero when half-open, where the trial calls in flight
	// decide and no estimate exists.
	RetryAfter time.Duration
	// Reason is Tollgate's text, e.g. "Circuit OPEN for api:fetch: 12.5s
	// remaining in cooldown (opened after 5 consecutive failures)".
	Reason string
}

func (e *OpenError) Error() string { return e.Reason }
