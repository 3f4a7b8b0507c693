package approvalstest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
)

// announcing is the store the blocking approver writes to: it tells the
// test which request a blocked call is waiting on.
type announcing struct {
	approvals.Store
	created chan<- string
}

func (a *announcing) Create(ctx context.Context, r approvals.Request) (string, error) {
	id, err := a.Store.Create(ctx, r)
	if err == nil {
		a.created <- id
	}
	return id, err
}

// recorder keeps the audit events a Tower writes.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Emit(_ context.Context, e *audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, *e)
	return nil
}

// executed returns the decision metadata of the call that ran.
func (r *recorder) executed() (tollgate.Params, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Outcome == tollgate.OutcomeExecuted {
			return e.Decision.Metadata, true
		}
	}
	return nil, false
}

func (d *deferred) approve(id, by string) error {
	return d.store.Decide(context.Background(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: by, At: d.clock()})
}

// approvalsRequiredTakesTheLarger: the rule asks 2 for both tools; the
// manifest 1 for one (which must not lower it) and 3 for the other (which
// the rule must not lower).
func (d *deferred) approvalsRequiredTakesTheLarger() {
	for tool, want := range map[string]int{"api:delete_team": 2, "api:delete_org": 3, "api:delete_user": 1} {
		id := d.parkCall(d.callTool(tool, bot, "u-1", ""))
		rec, err := d.store.Get(context.Background(), id)
		if err != nil || rec.Request.Required() != want {
			d.t.Errorf("%s: stored request needs %d approvals, %v; want %d", tool, rec.Request.Required(), err, want)
		}
	}
}

// deferredTwoPersonRule: the retry keeps getting APPROVAL_PENDING until the
// second distinct approver approved; the agent and its delegator cannot
// approve, nor can one approver count twice; then it runs once, and the
// audit record names both approvers.
func (d *deferred) deferredTwoPersonRule() {
	call := func(id string) error { return d.do(d.callTool("api:delete_team", bot, "u-7", id)) }
	id := d.parkCall(d.callTool("api:delete_team", bot, "u-7", ""))
	if err := d.approve(id, "alice@example.com"); err != nil {
		d.t.Fatal(err)
	}
	var te *tollgate.Error
	if err := call(id); !errors.As(err, &te) || te.Reason != tollgate.ReasonApprovalPending || te.ApprovalID != id {
		d.t.Fatalf("retry with one of two approvals: %v, want APPROVAL_PENDING %s", err, id)
	}
	for by, want := range map[string]error{
		"alice@example.com": approvals.ErrDuplicateApprover,
		bot.ID:              approvals.ErrSelfApproval,
		bot.DelegatedBy[0]:  approvals.ErrSelfApproval,
	} {
		if err := d.approve(id, by); !errors.Is(err, want) {
			d.t.Errorf("approval by %s: %v, want %v", by, err, want)
		}
	}
	if d.runs.Load() != 0 {
		d.t.Fatal("the call ran before two people approved it")
	}
	if err := d.approve(id, "bob@example.com"); err != nil {
		d.t.Fatal(err)
	}
	if err := call(id); err != nil {
		d.t.Fatalf("retry after two approvals: %v", err)
	}
	d.wantReason(call(id), tollgate.ReasonApprovalDenied)
	if d.runs.Load() != 1 {
		d.t.Fatalf("runs = %d, want 1", d.runs.Load())
	}
	md, ok := d.audit.executed()
	by, _ := md.Get("approved_by")
	list, _ := md.Get("approvers")
	if !ok || by != "bob@example.com" || !slices.Equal(list.([]any), []any{"alice@example.com", "bob@example.com"}) {
		d.t.Errorf("audited decision metadata %v; want approved_by bob and both approvers", md)
	}
}

// blockingTwoPersonRule: a blocked call waits through the first approval
// and runs after the second; a deny after one approval refuses it.
func (d *deferred) blockingTwoPersonRule() {
	run := func(user string) <-chan error {
		done := make(chan error, 1)
		go func() { done <- d.do(d.callTool("api:purge_user", bot, user, "")) }()
		return done
	}
	done := run("u-8")
	id := <-d.blocked
	if err := d.approve(id, "alice@example.com"); err != nil {
		d.t.Fatal(err)
	}
	if err := d.approve(id, "bob@example.com"); err != nil {
		d.t.Fatal(err)
	}
	if err := <-done; err != nil || d.runs.Load() != 1 {
		d.t.Fatalf("blocked call after two approvals: %v, runs %d; want it run once", err, d.runs.Load())
	}

	done = run("u-9")
	id = <-d.blocked
	if err := d.approve(id, "alice@example.com"); err != nil {
		d.t.Fatal(err)
	}
	if err := d.store.Decide(context.Background(), id, approvals.Decision{Outcome: approvals.OutcomeDenied, By: "bob@example.com", At: d.clock()}); err != nil {
		d.t.Fatal(err)
	}
	d.wantReason(<-done, tollgate.ReasonApprovalDenied)
	if d.runs.Load() != 1 {
		d.t.Fatalf("a denied call ran")
	}
}
