package approvalstest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
	"github.com/tollgate-go/tollgate/tower"
)

const deferredManifest = `version: "1.0.0"
tools:
  "api:delete_user":
    effect: delete
    resource_type: user
    ask_mode: deferred
  "api:delete_team":
    effect: delete
    resource_type: team
    ask_mode: deferred
    approvals_required: 1
  "api:delete_org":
    effect: delete
    resource_type: org
    ask_mode: deferred
    approvals_required: 3
  "api:purge_user":
    effect: delete
    resource_type: user
    ask_mode: blocking
    approvals_required: 2
`

// RunDeferredConformance drives deferred approvals through a real Tower
// backed by the store newStore returns: the call is parked, a human
// approves it, and the retry runs exactly once — also when 50 retries race —
// while a retry of any other call, an expired or a denied approval is
// refused.
func RunDeferredConformance(t *testing.T, newStore func(t *testing.T) approvals.Store) {
	t.Run("ApprovedRetryRunsOnce", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.approvedRetryRunsOnce() })
	t.Run("ConcurrentRetriesRunOnce", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.concurrentRetriesRunOnce() })
	t.Run("OtherCallsRefused", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.otherCallsRefused() })
	t.Run("PendingDeniedExpired", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.pendingDeniedExpired() })
	t.Run("ApprovalsRequiredTakesTheLarger", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.approvalsRequiredTakesTheLarger() })
	t.Run("DeferredTwoPersonRule", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.deferredTwoPersonRule() })
	t.Run("BlockingTwoPersonRule", func(t *testing.T) { d := newDeferred(t, newStore(t)); d.blockingTwoPersonRule() })
}

type deferred struct {
	t     *testing.T
	store approvals.Store
	tw    *tower.Tower
	now   atomic.Int64 // unix nanoseconds
	runs  atomic.Int32
	audit recorder
	// blocked receives the id of each request the blocking approver stores.
	blocked chan string
}

func newDeferred(t *testing.T, store approvals.Store) *deferred {
	d := &deferred{t: t, store: store, blocked: make(chan string, 1)}
	d.now.Store(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).UnixNano())
	man, err := registry.Parse("manifest.yaml", []byte(deferredManifest))
	if err != nil {
		t.Fatal(err)
	}
	ask := policy.EvaluatorFunc(func(_ tollgate.Agent, _ tollgate.Intent, r tollgate.ToolRequest) tollgate.Decision {
		dec := tollgate.Decision{Type: tollgate.Ask, Reason: "deletes need a human", PolicyID: "ask_deletes"}
		if r.Tool == "api:delete_team" || r.Tool == "api:delete_org" {
			dec.ApprovalsRequired = 2
		}
		return dec
	})
	d.tw, err = tower.New(&tower.Config{Policy: ask, Manifest: man},
		tower.WithApprovalStore(store, time.Hour),
		tower.WithApprover(approvals.QueueApprover(&announcing{Store: store, created: d.blocked}, time.Hour, approvals.WithClock(d.clock))),
		tower.WithAuditSink(&d.audit),
		tower.WithClock(d.clock),
		tower.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *deferred) clock() time.Time { return time.Unix(0, d.now.Load()).UTC() }

func (d *deferred) call(agent tollgate.Agent, user string, approvalID string) tower.Call {
	return d.callTool("api:delete_user", agent, user, approvalID)
}

func (d *deferred) callTool(tool string, agent tollgate.Agent, user string, approvalID string) tower.Call {
	return tower.Call{
		Credentials: identity.Credentials{Claimed: agent},
		Intent:      tollgate.Intent{Action: "offboard", Reason: "left the company"},
		Request:     tollgate.ToolRequest{Tool: tool, Action: "delete", Params: tollgate.Params{{Key: "user", Value: user}}},
		ApprovalID:  approvalID,
	}
}

var bot = tollgate.Agent{ID: "hr-bot", Version: "1.0", Owner: "hr", DelegatedBy: []string{"orchestrator"}}

func (d *deferred) exec(context.Context) (any, error) {
	d.runs.Add(1)
	return "deleted", nil
}

func (d *deferred) do(c tower.Call) error {
	_, err := d.tw.ExecuteCall(context.Background(), c, d.exec)
	return err
}

// park makes the first call and returns the approval id it was given.
func (d *deferred) park(agent tollgate.Agent, user string) string {
	d.t.Helper()
	return d.parkCall(d.call(agent, user, ""))
}

func (d *deferred) parkCall(c tower.Call) string {
	d.t.Helper()
	err := d.do(c)
	var te *tollgate.Error
	if !errors.As(err, &te) || te.Reason != tollgate.ReasonApprovalPending || te.ApprovalID == "" {
		d.t.Fatalf("first call: err = %v, want APPROVAL_PENDING with an id", err)
	}
	return te.ApprovalID
}

func (d *deferred) decide(id string, out approvals.Outcome) {
	d.t.Helper()
	if err := d.store.Decide(context.Background(), id, approvals.Decision{Outcome: out, By: "alice@example.com", Note: "checked", At: d.clock()}); err != nil {
		d.t.Fatal(err)
	}
}

func (d *deferred) wantReason(err error, want tollgate.Reason) {
	d.t.Helper()
	if got := tollgate.ReasonOf(err); got != want {
		d.t.Fatalf("err = %v (%s), want %s", err, got, want)
	}
}

func (d *deferred) approvedRetryRunsOnce() {
	id := d.park(bot, "u-1")
	if d.runs.Load() != 0 {
		d.t.Fatal("a deferred call ran before approval")
	}
	d.decide(id, approvals.OutcomeApproved)
	if err := d.do(d.call(bot, "u-1", id)); err != nil {
		d.t.Fatalf("approved retry: %v", err)
	}
	d.wantReason(d.do(d.call(bot, "u-1", id)), tollgate.ReasonApprovalDenied)
	if d.runs.Load() != 1 {
		d.t.Fatalf("runs = %d, want 1", d.runs.Load())
	}
	// A decision is final.
	err := d.store.Decide(context.Background(), id, approvals.Decision{Outcome: approvals.OutcomeDenied, By: "mallory", At: d.clock()})
	if !errors.Is(err, approvals.ErrAlreadyDecided) {
		d.t.Errorf("re-deciding: %v, want ErrAlreadyDecided", err)
	}
}

func (d *deferred) concurrentRetriesRunOnce() {
	id := d.park(bot, "u-2")
	d.decide(id, approvals.OutcomeApproved)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = d.do(d.call(bot, "u-2", id))
		}()
	}
	wg.Wait()
	if d.runs.Load() != 1 {
		d.t.Fatalf("50 concurrent retries ran %d times, want exactly 1", d.runs.Load())
	}
}

func (d *deferred) otherCallsRefused() {
	id := d.park(bot, "u-3")
	d.decide(id, approvals.OutcomeApproved)
	direct := bot
	direct.DelegatedBy = nil
	other := bot
	other.ID = "other-bot"
	chain := bot
	chain.DelegatedBy = []string{"rogue"}
	for name, c := range map[string]tower.Call{
		"different params":           d.call(bot, "u-999", id),
		"different agent":            d.call(other, "u-3", id),
		"different delegation chain": d.call(chain, "u-3", id),
		"no delegation chain":        d.call(direct, "u-3", id),
	} {
		err := d.do(c)
		if got := tollgate.ReasonOf(err); got != tollgate.ReasonApprovalDenied {
			d.t.Errorf("%s: err = %v, want APPROVAL_DENIED", name, err)
		}
	}
	if d.runs.Load() != 0 {
		d.t.Fatalf("an approval ran a different call")
	}
	// The approval is still good for the call it was given for.
	if err := d.do(d.call(bot, "u-3", id)); err != nil {
		d.t.Fatalf("the approved call after mismatched tries: %v", err)
	}
}

func (d *deferred) pendingDeniedExpired() {
	id := d.park(bot, "u-4")
	var te *tollgate.Error
	if err := d.do(d.call(bot, "u-4", id)); !errors.As(err, &te) || te.Reason != tollgate.ReasonApprovalPending || te.ApprovalID != id {
		d.t.Fatalf("retry while pending: %v, want APPROVAL_PENDING %s", err, id)
	}
	d.decide(id, approvals.OutcomeDenied)
	d.wantReason(d.do(d.call(bot, "u-4", id)), tollgate.ReasonApprovalDenied)

	late := d.park(bot, "u-5")
	d.decide(late, approvals.OutcomeApproved)
	d.now.Add(int64(2 * time.Hour))
	d.wantReason(d.do(d.call(bot, "u-5", late)), tollgate.ReasonApprovalDenied)
	if d.runs.Load() != 0 {
		d.t.Fatalf("a denied or expired approval ran")
	}
}
