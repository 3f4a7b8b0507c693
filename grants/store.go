package grants

import (
	"context"
	"errors"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Store keeps grants. Implementations must be safe for concurrent use, and
// Consume must be atomic across every process sharing the store.
type Store interface {
	// Create stores g and returns it as stored. An empty ID gets a random
	// UUIDv4; an ID that already exists is ErrExists (never overwritten). A
	// zero CreatedAt becomes the current time. Uses and Revoked start at
	// their zero values whatever g says. Invalid grants are refused (see
	// Grant.Validate).
	Create(ctx context.Context, g Grant) (Grant, error)
	// Consume finds the first grant, in Compare order, that matches the call
	// and is Active at now, counts one use and returns the grant as
	// updated. Finding and counting are one atomic step. found is false when
	// no grant applies.
	Consume(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest, now time.Time) (g Grant, found bool, err error)
	// Revoke marks the grant revoked. It reports false when the ID is
	// unknown or the grant was already revoked.
	Revoke(ctx context.Context, id string) (bool, error)
	// Get returns the grant with the given ID, live or not.
	Get(ctx context.Context, id string) (g Grant, found bool, err error)
	// List returns the grants selected by f in Compare order.
	List(ctx context.Context, f Filter) ([]Grant, error)
	// CleanupExpired deletes grants expired at now (revoked or not) and
	// returns how many it deleted. Revoked grants that have not expired are
	// kept for the record.
	CleanupExpired(ctx context.Context, now time.Time) (int, error)
}

// Filter selects grants for List.
type Filter struct {
	// AgentID keeps only grants issued for exactly this agent; wildcard
	// grants (AgentID "") are not included, as in Tollgate. Empty keeps all.
	AgentID string
	// IncludeInactive also returns expired, revoked and used-up grants.
	IncludeInactive bool
	// Now decides which grants are active. It is required unless
	// IncludeInactive is set.
	Now time.Time
}

var (
	// ErrExists is returned by Create when the ID is taken.
	ErrExists = errors.New("grants: grant ID already exists")
	// ErrZeroTime is returned when a time argument is zero: treating it as
	// the distant past would make every expired grant look active.
	ErrZeroTime = errors.New("grants: time is zero; pass the current time")
)
