package breaker

import (
	"fmt"
	"time"
)

// Default settings, as in Tollgate.
const (
	DefaultFailureThreshold = 5
	DefaultCooldown         = 60 * time.Second
	DefaultHalfOpenMaxCalls = 1
)

// Settings configure every tool's circuit. A zero field takes its default.
type Settings struct {
	// FailureThreshold is how many consecutive failures open a circuit
	// (default 5). A success in between starts the count again; Ignored
	// outcomes neither count nor break the run.
	FailureThreshold uint32
	// Cooldown is how long a circuit stays open before it lets trial calls
	// through (default 60s; negative is an error).
	Cooldown time.Duration
	// HalfOpenMaxCalls is how many trial calls a half-open circuit lets
	// through at once (default 1). Tollgate stored this setting but let every
	// call through while half-open. The circuit closes after this many
	// consecutive successful trial calls and reopens on the first failure.
	HalfOpenMaxCalls uint32
	// Clock is the time source for the RetryAfter and "seconds remaining"
	// of refusals (default time.Now). The state machine itself runs on
	// gobreaker, which reads time.Now and cannot take a clock, so a fake
	// Clock changes the reported times but not when the cooldown ends.
	Clock func() time.Time
	// OnStateChange, if set, is called on every state change of a tool's
	// circuit with the states spelled Closed, Open, HalfOpen. It runs while
	// that circuit is locked: it must be quick and must not call back into
	// the same Breakers for the same tool.
	OnStateChange func(tool, from, to string)
}

func (s Settings) withDefaults() (Settings, error) {
	if s.Cooldown < 0 {
		return s, fmt.Errorf("breaker: cooldown_seconds must be > 0, got %v", s.Cooldown)
	}
	if s.FailureThreshold == 0 {
		s.FailureThreshold = DefaultFailureThreshold
	}
	if s.Cooldown == 0 {
		s.Cooldown = DefaultCooldown
	}
	if s.HalfOpenMaxCalls == 0 {
		s.HalfOpenMaxCalls = DefaultHalfOpenMaxCalls
	}
	if s.Clock == nil {
		s.Clock = time.Now
	}
	return s, nil
}
