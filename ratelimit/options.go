package ratelimit

import "time"

// DefaultMaxKeys is how many agents a SlidingWindow tracks unless
// WithMaxKeys says otherwise.
const DefaultMaxKeys = 100_000

// Option configures a SlidingWindow.
type Option func(*options)

type options struct {
	clock   func() time.Time
	maxKeys int
}

// WithClock sets the time source (default time.Now). Tests pass a fake clock
// instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.clock = now }
}

// WithMaxKeys bounds how many agents the limiter tracks at once (default
// DefaultMaxKeys), and with them its memory: each tracked agent holds at most
// max_calls timestamps per rule.
//
// An agent whose counted calls have all left their windows is idle and is
// evicted when room is needed; forgetting it changes nothing, since an idle
// agent's counts are zero. When every tracked agent is still active, a call
// from an agent not yet tracked is refused (fail closed; its Result.Rule is
// -1) until one becomes idle — never by forgetting an active agent's counts,
// which would reset its limits.
//
// The bound is enforced per shard of the agent table (agents are spread over
// up to 32 shards of at least 1024 agents each), so with a large n a shard
// may fill up slightly before the table as a whole does.
func WithMaxKeys(n int) Option {
	return func(o *options) { o.maxKeys = n }
}
