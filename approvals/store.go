package approvals

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps approval requests until someone decides them, and hands out
// each approval once. It backs QueueApprover (the caller blocks while a
// human decides) and deferred approvals (the caller comes back later with
// the approval ID). Implementations must be safe for concurrent use, and
// Decide and Consume must be atomic across every process sharing the store.
type Store interface {
	// Create stores r as a pending request and returns its ID: r.ID when
	// set (ErrExists if taken), otherwise a new random UUIDv4. It records
	// BindingHash of r's agent, intent and tool request before storing
	// anything, so a backend may redact what it persists without weakening
	// the binding. r.ExpiresAt is required.
	Create(ctx context.Context, r Request) (id string, err error)
	// Get returns the record, or ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Decide records the decision on a pending request. Decisions are
	// final: a decided request gives ErrAlreadyDecided, and an expired one
	// ErrExpired. d must be valid (see Decision).
	Decide(ctx context.Context, id string, d Decision) error
	// Wait blocks until the request is decided or ctx ends, then returns the
	// record as it is (still pending if ctx ended first). Only ErrNotFound
	// and storage failures are errors.
	Wait(ctx context.Context, id string) (Record, error)
	// Consume spends an approval for the call whose BindingHash is
	// bindingHash, at now. It succeeds only once, and only if the request
	// exists (ErrNotFound), was made for this exact call (ErrMismatch,
	// compared in constant time), was approved (ErrNotApproved), has not
	// been consumed (ErrUsed) and has not expired (ErrExpired).
	Consume(ctx context.Context, id, bindingHash string, now time.Time) error
	// List returns records oldest first; pendingOnly keeps the undecided
	// ones (expired or not).
	List(ctx context.Context, pendingOnly bool) ([]Record, error)
}

// Record is a stored request and what became of it.
type Record struct {
	Request Request
	// BindingHash is BindingHash of the request, computed by Create.
	BindingHash string
	CreatedAt   time.Time
	// Outcome is OutcomeDeferred until decided, then approved or denied.
	Outcome   Outcome
	DecidedBy string
	Note      string
	DecidedAt time.Time // zero until decided
	UsedAt    time.Time // zero until consumed
}

// Pending reports whether nobody has decided the request yet.
func (r Record) Pending() bool { return r.Outcome == OutcomeDeferred }

// Decision is a verdict on a stored request.
type Decision struct {
	Outcome Outcome // OutcomeApproved or OutcomeDenied
	By      string  // who decided; required, it goes to the audit trail
	Note    string
	At      time.Time // when; required, and before the request expires
}

// Validate reports a decision a Store must refuse.
func (d Decision) Validate() error {
	if d.Outcome != OutcomeApproved && d.Outcome != OutcomeDenied {
		return fmt.Errorf("%w: outcome %q; a decision is %q or %q", ErrInvalidDecision, d.Outcome, OutcomeApproved, OutcomeDenied)
	}
	if d.By == "" {
		return fmt.Errorf("%w: By is empty; name who decided", ErrInvalidDecision)
	}
	if d.At.IsZero() {
		return fmt.Errorf("%w: At is zero; pass the decision time", ErrInvalidDecision)
	}
	return nil
}

// Store errors. Backends wrap them with detail; test with errors.Is.
var (
	ErrNotFound        = errors.New("approvals: no such approval request")
	ErrExists          = errors.New("approvals: approval request ID already exists")
	ErrInvalidRequest  = errors.New("approvals: invalid approval request")
	ErrInvalidDecision = errors.New("approvals: invalid decision")
	ErrAlreadyDecided  = errors.New("approvals: request already decided")
	ErrNotApproved     = errors.New("approvals: request not approved")
	ErrExpired         = errors.New("approvals: request expired")
	ErrMismatch        = errors.New("approvals: approval was given for a different call")
	ErrUsed            = errors.New("approvals: approval already used")
)
