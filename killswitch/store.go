package killswitch

import (
	"context"
	"errors"
	"time"
)

// Source is what the pipeline reads on every call: the switches in force,
// compiled. Matcher must not block or do I/O.
type Source interface {
	// Matcher returns the switches as the source last confirmed them. An
	// error means it cannot vouch for them (for example ErrStale: a shared
	// store out of touch for too long), and the pipeline refuses every
	// call rather than miss a switch.
	Matcher() (*Matcher, error)
}

// Store keeps kill switches. Implementations are safe for concurrent use.
// A switch set through a Store is in its own Matcher when Set returns;
// stores shared by several processes bring it to the others' Matchers by
// their own means (see the backends).
type Store interface {
	Source
	// Set stores s and returns it as stored. An empty ID gets a random
	// UUIDv4; an ID already stored is ErrExists. A zero SetAt becomes the
	// store's current time. Invalid switches are refused (Switch.Validate).
	// Switches that expired are forgotten along the way.
	Set(ctx context.Context, s Switch) (Switch, error)
	// Lift removes switch id and returns it. found is false when no such
	// switch is stored (never set, lifted, or expired and forgotten).
	Lift(ctx context.Context, id string) (s Switch, found bool, err error)
	// List returns the switches in force at now, in SetAt order (then ID).
	List(ctx context.Context, now time.Time) ([]Switch, error)
}

var (
	// ErrExists is returned by Set when the ID is taken.
	ErrExists = errors.New("killswitch: switch ID already exists")
	// ErrZeroTime is returned by List for a zero now: it would make every
	// expired switch look in force.
	ErrZeroTime = errors.New("killswitch: time is zero; pass the current time")
	// ErrStale is wrapped by Mirror.Matcher when the switches were last
	// confirmed longer ago than the staleness bound allows.
	ErrStale = errors.New("killswitch: kill switch state is stale")
)
