package integrity

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults. DefaultMaxTurns is Tollgate's max_snapshots; the other two bound
// what Tollgate left unbounded (every agent, every field).
const (
	DefaultMaxTurns     = 1000
	DefaultMaxSnapshots = 100_000
	DefaultMaxFields    = 1024
)

// DefaultImmutableFields are Tollgate 1.4.0's default immutable fields.
var DefaultImmutableFields = []string{"system_prompt", "tool_permissions", "security_level", "role"}

// Option configures a Monitor.
type Option func(*config)

type config struct {
	immutable    []string
	immutableSet bool
	maxTurns     int
	maxSnapshots int
	maxFields    int
	ttl          time.Duration
	now          func() time.Time
	require      bool
	onViolation  func(Result)
	log          *slog.Logger
}

// WithImmutableFields replaces the default immutable fields. Unlike
// Tollgate, an empty list is an error rather than a silent return to the
// defaults: a caller who passes nothing meant something, and guessing would
// hide the mistake.
func WithImmutableFields(fields ...string) Option {
	return func(c *config) { c.immutable, c.immutableSet = fields, true }
}

// WithMaxTurns bounds the snapshots kept per agent (Tollgate's
// max_snapshots, default DefaultMaxTurns). The agent's oldest snapshot
// (by when it was last taken) goes first.
func WithMaxTurns(n int) Option { return func(c *config) { c.maxTurns = n } }

// WithMaxSnapshots bounds the snapshots kept over all agents (default
// DefaultMaxSnapshots), so memory stays bounded however many agents call.
// The oldest snapshot overall goes first.
func WithMaxSnapshots(n int) Option { return func(c *config) { c.maxSnapshots = n } }

// WithMaxFields bounds the top-level fields of one context (default
// DefaultMaxFields); Snapshot refuses a larger one, Verify finds it invalid.
func WithMaxFields(n int) Option { return func(c *config) { c.maxFields = n } }

// WithTTL forgets a snapshot d after it was taken (0, the default: never).
// An expired snapshot is missing: with WithRequireSnapshot, Verify refuses.
func WithTTL(d time.Duration) Option { return func(c *config) { c.ttl = d } }

// WithClock sets the time source (tests). A nil function means time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRequireSnapshot makes Verify fail closed: a turn with no snapshot
// (never taken, evicted or expired) is invalid. Tollgate treats it as valid.
func WithRequireSnapshot() Option { return func(c *config) { c.require = true } }

// WithOnViolation calls fn with every invalid Result, after the monitor's
// lock is released. A panic in fn is recovered and logged: a broken alert
// hook must not turn a verdict into a crash.
func WithOnViolation(fn func(Result)) Option { return func(c *config) { c.onViolation = fn } }

// WithLogger sets where violations are logged (warning level). Default
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

func newConfig(opts []Option) (config, error) {
	c := config{
		immutable:    DefaultImmutableFields,
		maxTurns:     DefaultMaxTurns,
		maxSnapshots: DefaultMaxSnapshots,
		maxFields:    DefaultMaxFields,
		now:          time.Now,
		log:          slog.Default(),
	}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.immutableSet && len(c.immutable) == 0:
		return c, fmt.Errorf("integrity: WithImmutableFields: no fields given (omit the option for the defaults %v)", DefaultImmutableFields)
	case c.maxTurns < 1:
		return c, fmt.Errorf("integrity: WithMaxTurns: %d, want at least 1", c.maxTurns)
	case c.maxSnapshots < 1:
		return c, fmt.Errorf("integrity: WithMaxSnapshots: %d, want at least 1", c.maxSnapshots)
	case c.maxFields < 1:
		return c, fmt.Errorf("integrity: WithMaxFields: %d, want at least 1", c.maxFields)
	case c.ttl < 0:
		return c, fmt.Errorf("integrity: WithTTL: %v, want 0 (never) or more", c.ttl)
	}
	for _, f := range c.immutable {
		if f == "" {
			return c, fmt.Errorf("integrity: WithImmutableFields: an empty field name")
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}
