package approvals_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

// hookStore runs afterCreate once Create has stored a request, standing in
// for the human who decides while QueueApprover waits.
type hookStore struct {
	approvals.Store
	afterCreate func(id string)
	createErr   error
}

func (h *hookStore) Create(ctx context.Context, r approvals.Request) (string, error) {
	if h.createErr != nil {
		return "", h.createErr
	}
	id, err := h.Store.Create(ctx, r)
	if err == nil && h.afterCreate != nil {
		h.afterCreate(id)
	}
	return id, err
}

var t0 = time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)

func queueRequest() approvals.Request {
	return approvals.Request{
		Agent:       tollgate.Agent{ID: "agent-1", Version: "1.0.0", Owner: "team"},
		Intent:      tollgate.Intent{Action: "cleanup", Reason: "stale"},
		ToolRequest: tollgate.ToolRequest{Tool: "api:delete_resource", Action: "delete", Effect: tollgate.EffectDelete, Params: tollgate.Params{{Key: "id", Value: "r1"}}},
		Reason:      "deletes need approval",
	}
}

func decideWith(t *testing.T, s approvals.Store, out approvals.Outcome, then func()) func(string) {
	return func(id string) {
		if err := s.Decide(context.Background(), id, approvals.Decision{Outcome: out, By: "alice", Note: "ok", At: t0}); err != nil {
			t.Errorf("Decide: %v", err)
		}
		if then != nil {
			then()
		}
	}
}

func fixedClock(times ...time.Time) func() time.Time {
	return func() time.Time {
		t := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return t
	}
}

func TestQueueApproverDecisions(t *testing.T) {
	for _, out := range []approvals.Outcome{approvals.OutcomeApproved, approvals.OutcomeDenied} {
		t.Run(string(out), func(t *testing.T) {
			mem := approvals.NewMemoryStore()
			store := &hookStore{Store: mem}
			store.afterCreate = decideWith(t, mem, out, nil)
			res, err := approvals.QueueApprover(store, time.Hour, approvals.WithClock(fixedClock(t0))).Approve(context.Background(), queueRequest())
			if err != nil || res.Outcome != out || res.DecidedBy != "alice" || res.Note != "ok" || res.ApprovalID == "" {
				t.Fatalf("Approve = %+v, %v", res, err)
			}
			rec, err := mem.Get(context.Background(), res.ApprovalID)
			if err != nil || !rec.Request.ExpiresAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("stored record %+v, %v; want expiry at t0+1h", rec, err)
			}
			if used := !rec.UsedAt.IsZero(); used != (out == approvals.OutcomeApproved) {
				t.Errorf("approval used = %v; an approval must be spent at once, a denial never", used)
			}
		})
	}
}

func TestQueueApproverWakesWhenDecidedLater(t *testing.T) {
	mem := approvals.NewMemoryStore()
	store := &hookStore{Store: mem}
	store.afterCreate = func(id string) {
		go decideWith(t, mem, approvals.OutcomeApproved, nil)(id)
	}
	res, err := approvals.QueueApprover(store, time.Hour, approvals.WithClock(fixedClock(t0))).Approve(context.Background(), queueRequest())
	if err != nil || res.Outcome != approvals.OutcomeApproved {
		t.Fatalf("Approve = %+v, %v", res, err)
	}
}

func TestQueueApproverNeverApprovesOnTimeout(t *testing.T) {
	t.Run("caller gives up", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		store := &hookStore{Store: approvals.NewMemoryStore(), afterCreate: func(string) { cancel() }}
		res, err := approvals.QueueApprover(store, time.Hour).Approve(ctx, queueRequest())
		if err != nil || res.Outcome != approvals.OutcomeTimeout || res.ApprovalID == "" {
			t.Fatalf("Approve = %+v, %v; want timeout with the approval ID", res, err)
		}
	})
	t.Run("approved as the deadline passes", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		mem := approvals.NewMemoryStore()
		store := &hookStore{Store: mem}
		store.afterCreate = decideWith(t, mem, approvals.OutcomeApproved, cancel)
		res, err := approvals.QueueApprover(store, time.Hour, approvals.WithClock(fixedClock(t0))).Approve(ctx, queueRequest())
		if err != nil || res.Outcome != approvals.OutcomeTimeout {
			t.Fatalf("Approve = %+v, %v; want timeout", res, err)
		}
		if rec, _ := mem.Get(context.Background(), res.ApprovalID); !rec.UsedAt.IsZero() {
			t.Error("a timed-out approval was spent")
		}
	})
	t.Run("own timeout", func(t *testing.T) {
		res, err := approvals.QueueApprover(approvals.NewMemoryStore(), time.Millisecond).Approve(context.Background(), queueRequest())
		if err != nil || res.Outcome != approvals.OutcomeTimeout {
			t.Fatalf("Approve = %+v, %v; want timeout", res, err)
		}
	})
	t.Run("approval expired before use", func(t *testing.T) {
		mem := approvals.NewMemoryStore()
		store := &hookStore{Store: mem}
		store.afterCreate = decideWith(t, mem, approvals.OutcomeApproved, nil)
		clock := fixedClock(t0.Add(-time.Minute), t0.Add(time.Hour)) // expiry at t0+59m, use at t0+1h
		res, err := approvals.QueueApprover(store, time.Hour, approvals.WithClock(clock)).Approve(context.Background(), queueRequest())
		if err != nil || res.Outcome != approvals.OutcomeTimeout {
			t.Fatalf("Approve = %+v, %v; want timeout", res, err)
		}
	})
}

func TestQueueApproverExpiry(t *testing.T) {
	// Each case records the stored expiry, then ends the wait by canceling.
	expiry := func(ctx context.Context, cancel context.CancelFunc, clock time.Time, r approvals.Request) time.Time {
		var got time.Time
		mem := approvals.NewMemoryStore()
		store := &hookStore{Store: mem, afterCreate: func(id string) {
			rec, _ := mem.Get(context.Background(), id)
			got = rec.Request.ExpiresAt
			cancel()
		}}
		approvals.QueueApprover(store, time.Hour, approvals.WithClock(fixedClock(clock))).Approve(ctx, r)
		return got
	}

	ctx, cancel := context.WithCancel(context.Background())
	if got := expiry(ctx, cancel, t0, queueRequest()); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want clock + timeout %v", got, t0.Add(time.Hour))
	}

	deadline := time.Now().Add(time.Minute)
	ctx, cancel = context.WithDeadline(context.Background(), deadline)
	if got := expiry(ctx, cancel, deadline.Add(time.Hour), queueRequest()); !got.Equal(deadline) {
		t.Errorf("ExpiresAt = %v, want the earlier context deadline %v", got, deadline)
	}

	r := queueRequest()
	r.ExpiresAt = t0.Add(time.Second)
	ctx, cancel = context.WithCancel(context.Background())
	if got := expiry(ctx, cancel, t0, r); !got.Equal(r.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want the request's earlier %v", got, r.ExpiresAt)
	}
}

func TestQueueApproverFailsClosed(t *testing.T) {
	boom := errors.New("store down")
	tests := []struct {
		name  string
		store approvals.Store
		wait  time.Duration
	}{
		{"nil store", nil, time.Hour},
		{"zero timeout", approvals.NewMemoryStore(), 0},
		{"negative timeout", approvals.NewMemoryStore(), -time.Second},
		{"create fails", &hookStore{Store: approvals.NewMemoryStore(), createErr: boom}, time.Hour},
	}
	for _, tt := range tests {
		res, err := approvals.QueueApprover(tt.store, tt.wait).Approve(context.Background(), queueRequest())
		if err == nil || res.Outcome == approvals.OutcomeApproved {
			t.Errorf("%s: Approve = %+v, %v; want an error", tt.name, res, err)
		}
	}
}

// TestQueueApproverWaitsForEveryApprover: with two approvals required, the
// first one does not end the wait; the second does, and the call is
// approved as the second approver decided.
func TestQueueApproverWaitsForEveryApprover(t *testing.T) {
	mem := approvals.NewMemoryStore()
	store := &hookStore{Store: mem}
	store.afterCreate = func(id string) {
		go func() {
			for _, by := range []string{"alice", "bob"} {
				if err := mem.Decide(context.Background(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: by, At: t0}); err != nil {
					t.Errorf("Decide by %s: %v", by, err)
				}
			}
		}()
	}
	r := queueRequest()
	r.ApprovalsRequired = 2
	res, err := approvals.QueueApprover(store, time.Hour, approvals.WithClock(fixedClock(t0))).Approve(context.Background(), r)
	if err != nil || res.Outcome != approvals.OutcomeApproved || res.DecidedBy != "bob" {
		t.Fatalf("Approve = %+v, %v; want approved, settled by bob", res, err)
	}
	rec, err := mem.Get(context.Background(), res.ApprovalID)
	if err != nil || len(rec.Approvers()) != 2 || rec.UsedAt.IsZero() {
		t.Fatalf("record %+v, %v; want two approvers and the approval spent", rec, err)
	}
}

// TestQueueApproverPartialApprovalIsATimeout: one approval of two when the
// wait ends is no approval.
func TestQueueApproverPartialApprovalIsATimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mem := approvals.NewMemoryStore()
	store := &hookStore{Store: mem}
	store.afterCreate = decideWith(t, mem, approvals.OutcomeApproved, cancel)
	r := queueRequest()
	r.ApprovalsRequired = 2
	res, err := approvals.QueueApprover(store, time.Hour, approvals.WithClock(fixedClock(t0))).Approve(ctx, r)
	if err != nil || res.Outcome != approvals.OutcomeTimeout {
		t.Fatalf("Approve = %+v, %v; want timeout", res, err)
	}
	if rec, _ := mem.Get(context.Background(), res.ApprovalID); !rec.Pending() || len(rec.Decisions) != 1 {
		t.Errorf("record %+v; want pending with one approval", rec)
	}
}
