package audit

import (
	"context"
	"errors"
	"fmt"
)

// Sink records audit events. Emit returns only when the event is recorded
// (or, for asynchronous sinks such as Webhook, queued); a non-nil error
// means the event may be lost and the caller must refuse the call it
// describes. Implementations must be safe for concurrent use and must not
// keep e after Emit returns.
type Sink interface {
	Emit(ctx context.Context, e *Event) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, e *Event) error

// Emit calls f(ctx, e).
func (f SinkFunc) Emit(ctx context.Context, e *Event) error { return f(ctx, e) }

// Discard is a Sink that drops every event (for tests and benchmarks).
var Discard Sink = SinkFunc(func(context.Context, *Event) error { return nil })

// Composite returns a Sink that sends each event to every sink, in order.
// Unlike Tollgate's CompositeAuditSink it does not swallow errors: every sink
// still receives the event, and the errors of those that failed are joined
// (errors.Join) and returned, so the caller knows the audit failed.
func Composite(sinks ...Sink) (Sink, error) {
	if len(sinks) == 0 {
		return nil, errors.New("audit: composite requires at least one sink")
	}
	for i, s := range sinks {
		if s == nil {
			return nil, fmt.Errorf("audit: composite sink %d is nil", i)
		}
	}
	return composite(append([]Sink(nil), sinks...)), nil
}

type composite []Sink

func (c composite) Emit(ctx context.Context, e *Event) error {
	var errs []error
	for i, s := range c {
		if err := s.Emit(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("audit: sink %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
