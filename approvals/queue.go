package approvals

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// QueueOption configures QueueApprover.
type QueueOption func(*queueApprover)

// WithClock sets the clock QueueApprover uses for request expiry and for
// consuming approvals (default time.Now). The wait itself follows ctx and
// the real timeout.
func WithClock(now func() time.Time) QueueOption {
	return func(q *queueApprover) { q.now = now }
}

// QueueApprover returns an Approver that stores each request in store and
// blocks until it is settled — Request.Required distinct people approved
// it, or someone denied it — the timeout passes, or ctx ends, whichever
// comes first. The stored request expires at the same moment; approvals
// short of the number required by then are a timeout.
//
// An approval is consumed on the spot, bound to the request's BindingHash,
// so it cannot be replayed. When the wait ends without a decision, or the
// decision arrives as it ends, the outcome is OutcomeTimeout: a timeout is
// never an approval (Tollgate could be configured to approve on timeout;
// this cannot). Result.ApprovalID is the stored request's ID. A timeout that
// is not positive, or a nil store, refuses every request with an error.
func QueueApprover(store Store, timeout time.Duration, opts ...QueueOption) Approver {
	q := &queueApprover{store: store, timeout: timeout, now: time.Now}
	for _, o := range opts {
		o(q)
	}
	return q
}

type queueApprover struct {
	store   Store
	timeout time.Duration
	now     func() time.Time
}

func (q *queueApprover) Approve(ctx context.Context, r Request) (Result, error) {
	if q.store == nil {
		return Result{}, errors.New("approvals: QueueApprover has no store; pass one")
	}
	if q.timeout <= 0 {
		return Result{}, fmt.Errorf("approvals: QueueApprover timeout is %v; it must be positive", q.timeout)
	}
	expires := q.now().Add(q.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(expires) {
		expires = d
	}
	if r.ExpiresAt.IsZero() || expires.Before(r.ExpiresAt) {
		r.ExpiresAt = expires
	}
	id, err := q.store.Create(ctx, r)
	if err != nil {
		return Result{}, fmt.Errorf("approvals: storing the approval request: %w", err)
	}

	waitCtx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	rec, err := q.store.Wait(waitCtx, id)
	if err != nil {
		return Result{}, fmt.Errorf("approvals: waiting for approval %q: %w", id, err)
	}
	timedOut := Result{Outcome: OutcomeTimeout, ApprovalID: id, DecidedBy: ByTimeout}
	if waitCtx.Err() != nil || rec.Pending() {
		return timedOut, nil
	}
	res := Result{Outcome: rec.Outcome, ApprovalID: id, DecidedBy: rec.DecidedBy, Note: rec.Note}
	if rec.Outcome != OutcomeApproved {
		return res, nil
	}
	// Spend the approval, bound to the call in hand, so that nobody can use
	// it again.
	err = q.store.Consume(ctx, id, BindingHash(r.Agent, r.Intent, r.ToolRequest), q.now())
	switch {
	case errors.Is(err, ErrExpired):
		return timedOut, nil
	case err != nil:
		return Result{}, fmt.Errorf("approvals: using approval %q: %w", id, err)
	}
	return res, nil
}
