package approvals_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

func requestWithEffect(e tollgate.Effect) approvals.Request {
	return approvals.Request{ID: "req-1", ToolRequest: tollgate.ToolRequest{Tool: "api:x", Effect: e}}
}

func TestDenyAll(t *testing.T) {
	res, err := approvals.DenyAll().Approve(context.Background(), requestWithEffect(tollgate.EffectRead))
	want := approvals.Result{Outcome: approvals.OutcomeDenied, ApprovalID: "req-1", DecidedBy: "tollgate:deny-all"}
	if err != nil || res != want {
		t.Fatalf("DenyAll = %+v, %v; want %+v", res, err, want)
	}
}

func TestAutoApproveReads(t *testing.T) {
	for _, e := range []tollgate.Effect{tollgate.EffectRead, tollgate.EffectWrite, tollgate.EffectDelete, tollgate.EffectNotify, tollgate.EffectUnknown, "", "READ"} {
		res, err := approvals.AutoApproveReads().Approve(context.Background(), requestWithEffect(e))
		want := approvals.OutcomeDenied
		if e == tollgate.EffectRead {
			want = approvals.OutcomeApproved
		}
		if err != nil || res.Outcome != want || res.DecidedBy != approvals.ByAutoApproveReads {
			t.Errorf("effect %q: %+v, %v; want %s", e, res, err, want)
		}
	}
}

func TestCallback(t *testing.T) {
	boom := errors.New("approval service down")
	tests := []struct {
		name    string
		fn      func(ctx context.Context, cancel context.CancelFunc) (bool, error)
		want    approvals.Outcome
		wantErr error
	}{
		{"true approves", func(context.Context, context.CancelFunc) (bool, error) { return true, nil }, approvals.OutcomeApproved, nil},
		{"false denies", func(context.Context, context.CancelFunc) (bool, error) { return false, nil }, approvals.OutcomeDenied, nil},
		{"error is returned", func(context.Context, context.CancelFunc) (bool, error) { return true, boom }, "", boom},
		{"deadline while waiting", func(ctx context.Context, cancel context.CancelFunc) (bool, error) {
			cancel()
			<-ctx.Done()
			return true, nil
		}, approvals.OutcomeTimeout, nil},
		{"approval after the deadline", func(_ context.Context, cancel context.CancelFunc) (bool, error) {
			cancel()
			return true, nil
		}, approvals.OutcomeTimeout, nil},
		{"error after the deadline", func(ctx context.Context, cancel context.CancelFunc) (bool, error) {
			cancel()
			return false, ctx.Err()
		}, approvals.OutcomeTimeout, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := approvals.Callback(func(ctx context.Context, r approvals.Request) (bool, error) {
				if r.ID != "req-1" {
					t.Errorf("callback got request %q", r.ID)
				}
				return tt.fn(ctx, cancel)
			})
			res, err := a.Approve(ctx, requestWithEffect(tollgate.EffectWrite))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if res.Outcome != tt.want {
				t.Errorf("outcome = %q, want %q", res.Outcome, tt.want)
			}
			if tt.want != "" && res.ApprovalID != "req-1" {
				t.Errorf("ApprovalID = %q", res.ApprovalID)
			}
		})
	}
}

func TestCallbackIgnoringContextStillTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	a := approvals.Callback(func(context.Context, approvals.Request) (bool, error) {
		<-release // never looks at ctx
		return true, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := a.Approve(ctx, requestWithEffect(tollgate.EffectWrite))
	if err != nil || res.Outcome != approvals.OutcomeTimeout {
		t.Fatalf("Approve = %+v, %v; want timeout", res, err)
	}
}

func TestCallbackPanicIsAnError(t *testing.T) {
	a := approvals.Callback(func(context.Context, approvals.Request) (bool, error) { panic("bug") })
	res, err := a.Approve(context.Background(), requestWithEffect(tollgate.EffectWrite))
	if err == nil || res.Outcome == approvals.OutcomeApproved {
		t.Fatalf("Approve = %+v, %v; want an error", res, err)
	}
}

// TestSingleApproversDenyMultiPersonRequests: AutoApproveReads and Callback
// are one approver each, so a request that needs more is denied, and the
// callback is never asked.
func TestSingleApproversDenyMultiPersonRequests(t *testing.T) {
	r := requestWithEffect(tollgate.EffectRead)
	r.ApprovalsRequired = 2
	if res, err := approvals.AutoApproveReads().Approve(context.Background(), r); err != nil || res.Outcome != approvals.OutcomeDenied {
		t.Errorf("AutoApproveReads = %+v, %v; want denied", res, err)
	}
	asked := false
	cb := approvals.Callback(func(context.Context, approvals.Request) (bool, error) { asked = true; return true, nil })
	res, err := cb.Approve(context.Background(), r)
	if err != nil || res.Outcome != approvals.OutcomeDenied || asked {
		t.Errorf("Callback = %+v, %v (asked %v); want denied without asking", res, err, asked)
	}
}

func TestRequestInvolves(t *testing.T) {
	r := approvals.Request{Agent: tollgate.Agent{ID: "worker", DelegatedBy: []string{"orchestrator", "router"}}}
	for id, want := range map[string]bool{"worker": true, "orchestrator": true, "router": true, "alice": false, "": false, "Worker": false} {
		if got := r.Involves(id); got != want {
			t.Errorf("Involves(%q) = %v, want %v", id, got, want)
		}
	}
}
