package ratelimit

import "time"

// Option configures a SlidingWindow.
type Option func(*options)

type options struct {
	clock func() time.Time
}

// WithClock sets the time source (default time.Now). Tests pass a fake clock
// instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.clock = now }
}
