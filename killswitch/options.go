package killswitch

import (
	"fmt"
	"time"
)

// Defaults of a Mirror.
const (
	// DefaultResyncInterval is how often a Mirror re-reads its backend even
	// when no change was announced: it bounds how late a change whose
	// announcement was lost is seen.
	DefaultResyncInterval = time.Second
	// DefaultMaxStaleness is how long a Mirror answers from state it could
	// not confirm; past it, Matcher fails with ErrStale and the pipeline
	// refuses every call.
	DefaultMaxStaleness = 5 * time.Second
)

// Option configures NewMemory and NewMirror (and the backends' kill switch
// stores, which are built on a Mirror).
type Option func(*options)

type options struct {
	now          func() time.Time
	resync       time.Duration
	maxStaleness time.Duration
}

func newOptions(opts []Option) (options, error) {
	o := options{now: time.Now, resync: DefaultResyncInterval, maxStaleness: DefaultMaxStaleness}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.now == nil:
		return o, fmt.Errorf("killswitch: WithClock(nil)")
	case o.resync <= 0:
		return o, fmt.Errorf("killswitch: WithResyncInterval(%v) must be positive", o.resync)
	case o.maxStaleness <= o.resync:
		return o, fmt.Errorf("killswitch: WithMaxStaleness(%v) must be longer than the resync interval (%v), or every call is refused between two resyncs",
			o.maxStaleness, o.resync)
	}
	return o, nil
}

// WithClock sets the time source: what a zero SetAt becomes, when expired
// switches are forgotten and, for a Mirror, how old its state is (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithResyncInterval sets how often a Mirror re-reads its backend
// (default DefaultResyncInterval). It must be positive. The memory store
// ignores it.
func WithResyncInterval(d time.Duration) Option { return func(o *options) { o.resync = d } }

// WithMaxStaleness sets how old a Mirror's state may grow, since the
// start of its last successful read, before Matcher fails with ErrStale
// (default DefaultMaxStaleness). It must be longer than the resync
// interval; a few intervals ride out a slow read or two. The memory store
// ignores it.
func WithMaxStaleness(d time.Duration) Option { return func(o *options) { o.maxStaleness = d } }
