package approvals

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tollgate-go/tollgate"
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
	// Decide records one person's decision on a pending request, as
	// Record.Apply describes, atomically: the request is settled when
	// Request.Required distinct people approved it, or when anyone denied
	// it, and a settled decision is final (ErrAlreadyDecided). Before that
	// the approvals gathered so far are kept in Record.Decisions and the
	// record stays pending. An expired request gives ErrExpired, an
	// approval by the requesting agent or one of its delegators
	// ErrSelfApproval, and a second approval by the same person
	// ErrDuplicateApprover. d must be valid (see Decision).
	Decide(ctx context.Context, id string, d Decision) error
	// Wait blocks until the request is settled or ctx ends, then returns the
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
	// Outcome is OutcomeDeferred until settled, then approved or denied.
	Outcome Outcome
	// DecidedBy, Note and DecidedAt are those of the decision that settled
	// the request: the last approval needed, or the denial.
	DecidedBy string
	Note      string
	DecidedAt time.Time // zero until settled
	UsedAt    time.Time // zero until consumed
	// Decisions are every decision recorded, oldest first: the approvals
	// gathered while pending, then the one that settled it.
	Decisions []Decision
}

// Pending reports whether the request is not settled yet (it may hold
// approvals short of Request.Required).
func (r Record) Pending() bool { return r.Outcome == OutcomeDeferred }

// Approvers returns who approved the request, oldest first.
func (r Record) Approvers() []string {
	var out []string
	for _, d := range r.Decisions {
		if d.Outcome == OutcomeApproved {
			out = append(out, d.By)
		}
	}
	return out
}

// Apply records d on r the way Store.Decide must, so that every backend
// decides alike: d must be valid, r pending and unexpired at d.At; an
// approval must come from someone who is neither the requesting agent nor
// in its delegation chain (ErrSelfApproval: nobody approves their own call)
// and who has not approved r already (ErrDuplicateApprover: one person
// never counts twice). A denial needs neither: refusing one's own call, or
// changing one's mind, only makes things safer, and it settles r at once.
// An approval settles r when it is the Request.Required-th. r is unchanged
// when Apply returns an error.
func (r *Record) Apply(d Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	id := r.Request.ID
	switch {
	case !r.Pending():
		return fmt.Errorf("%w: %q was %s by %s", ErrAlreadyDecided, id, r.Outcome, r.DecidedBy)
	case !d.At.Before(r.Request.ExpiresAt):
		return fmt.Errorf("%w: %q expired at %s, before the decision", ErrExpired, id, r.Request.ExpiresAt.Format(time.RFC3339))
	case d.Outcome == OutcomeDenied:
	case r.Request.Involves(d.By):
		return fmt.Errorf("%w: %s made or delegated the call %q", ErrSelfApproval, d.By, id)
	case slices.Contains(r.Approvers(), d.By):
		return fmt.Errorf("%w: %s already approved %q; it needs %d approvers", ErrDuplicateApprover, d.By, id, r.Request.Required())
	}
	r.Decisions = append(slices.Clip(r.Decisions), d)
	if d.Outcome == OutcomeDenied || len(r.Approvers()) >= r.Request.Required() {
		r.Outcome, r.DecidedBy, r.Note, r.DecidedAt = d.Outcome, d.By, d.Note, d.At
	}
	return nil
}

// Decision is a verdict on a stored request.
type Decision struct {
	Outcome Outcome // OutcomeApproved or OutcomeDenied
	By      string  // who decided; required, it goes to the audit trail
	Note    string
	At      time.Time // when; required, and before the request expires
}

// Validate reports a request a Store must refuse at Create.
func (r Request) Validate() error {
	if r.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: ExpiresAt is required", ErrInvalidRequest)
	}
	if r.ApprovalsRequired < 0 || r.ApprovalsRequired > tollgate.MaxApprovalsRequired {
		return fmt.Errorf("%w: ApprovalsRequired is %d; it must be 0 to %d", ErrInvalidRequest, r.ApprovalsRequired, tollgate.MaxApprovalsRequired)
	}
	return nil
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
	// ErrSelfApproval refuses an approval by the requesting agent or a
	// member of its delegation chain.
	ErrSelfApproval = errors.New("approvals: nobody may approve a call they made or delegated")
	// ErrDuplicateApprover refuses a second approval by the same person.
	ErrDuplicateApprover = errors.New("approvals: this approver already approved the request")
)
