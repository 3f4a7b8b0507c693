package tower

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/identity"
)

// singleUse is a verifier for one single-use credential: the first
// presentation verifies agent, every later one is a replay; expired makes
// every presentation fail as an expired token would.
type singleUse struct {
	used    atomic.Bool
	expired atomic.Bool
}

func (s *singleUse) Verify(context.Context, identity.Credentials) (tollgate.Agent, error) {
	switch {
	case s.expired.Load():
		return tollgate.Agent{}, fmt.Errorf("%w: token is expired", identity.ErrInvalid)
	case s.used.Swap(true):
		return tollgate.Agent{}, fmt.Errorf("%w: %w: jti %q", identity.ErrInvalid, identity.ErrReplayed, "t-1")
	}
	a := agent.Clone()
	a.Metadata = tollgate.Params{{Key: "role", Value: "reader"}}
	return a, nil
}

func agentRole(ctx context.Context) string {
	a, _ := identity.FromContext(ctx)
	role, _ := a.Metadata.Get("role")
	s, _ := role.(string)
	return a.ID + "/" + s
}

func TestStreamBindsReplayToItsVerification(t *testing.T) {
	ctx := context.Background()
	t.Run("a unary replay is refused", func(t *testing.T) {
		tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(&singleUse{}))
		call := Call{Intent: intent, Request: req("mock:run")}
		if _, err := tw.ExecuteCall(ctx, call, ok); err != nil {
			t.Fatalf("first call: %v", err)
		}
		_, err := tw.ExecuteCall(ctx, call, ok)
		wantRefusal(t, err, tollgate.ReasonIdentityInvalid)
	})
	t.Run("later calls of a stream run as the stream's agent", func(t *testing.T) {
		tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(&singleUse{}))
		call := Call{Intent: intent, Request: req("mock:run"), Stream: new(Stream)}
		for i := range 3 {
			got, err := tw.ExecuteCall(ctx, call, func(ctx context.Context) (any, error) {
				who := agentRole(ctx)
				// A handler changing the agent it was given changes
				// nothing for the stream's later calls.
				a, _ := identity.FromContext(ctx)
				a.Metadata[0].Value = "admin"
				return who, nil
			})
			if err != nil || got != "agent-1/reader" {
				t.Fatalf("call %d = %v, %v; want agent-1/reader", i, got, err)
			}
		}
		for _, e := range rec.events {
			if e.Agent.ID != "agent-1" {
				t.Errorf("audited agent = %q, want agent-1", e.Agent.ID)
			}
		}
	})
	t.Run("a stream whose first call is a replay is refused", func(t *testing.T) {
		v := &singleUse{}
		v.used.Store(true) // spent by another call
		tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(v))
		_, err := tw.ExecuteCall(ctx, Call{Request: req("mock:run"), Stream: new(Stream)}, ok)
		wantRefusal(t, err, tollgate.ReasonIdentityInvalid)
	})
	t.Run("any other failure of a later call is refused", func(t *testing.T) {
		v := &singleUse{}
		tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(v))
		call := Call{Request: req("mock:run"), Stream: new(Stream)}
		if _, err := tw.ExecuteCall(ctx, call, ok); err != nil {
			t.Fatal(err)
		}
		v.expired.Store(true)
		_, err := tw.ExecuteCall(ctx, call, ok)
		wantRefusal(t, err, tollgate.ReasonIdentityInvalid)
	})
}

func TestStreamRedeemsApprovalOnce(t *testing.T) {
	ctx := context.Background()
	store := approvals.NewMemoryStore()
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Ask)}, WithApprovalStore(store, time.Hour), WithAskMode(tollgate.AskDeferred))
	first, second := req("mock:run", tollgate.Field{Key: "n", Value: "1"}), req("mock:run", tollgate.Field{Key: "n", Value: "2"})

	_, err := tw.Execute(ctx, agent, intent, first, ok)
	id := wantRefusal(t, err, tollgate.ReasonApprovalPending).ApprovalID
	if err := store.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "reviewer", At: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatal(err)
	}

	s := new(Stream)
	call := func(r tollgate.ToolRequest) Call {
		return Call{Credentials: identity.Credentials{Claimed: agent}, Intent: intent, Request: r, ApprovalID: id, Stream: s}
	}
	if v := tw.Decide(ctx, call(second)); v.Err != nil {
		t.Fatalf("dry run: %v", v.Err) // and it must not take the id
	}
	if _, err := tw.ExecuteCall(ctx, call(first), ok); err != nil {
		t.Fatalf("approved first ASK call of the stream: %v", err)
	}
	if got := rec.last(t); got.Outcome != tollgate.OutcomeExecuted || got.ApprovalID != id {
		t.Errorf("audited %s with approval %q, want executed with %q", got.Outcome, got.ApprovalID, id)
	}
	_, err = tw.ExecuteCall(ctx, call(second), ok)
	own := wantRefusal(t, err, tollgate.ReasonApprovalPending).ApprovalID
	if own == "" || own == id {
		t.Fatalf("second ASK call of the stream got approval id %q; want its own (the stream's was %q)", own, id)
	}
}

// A call whose caller leaves while it runs is audited as canceled with a
// plain summary, does not count against the tool, and the record matches
// the published audit schema.
func TestExecutionCanceledByCaller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var last audit.Event
	sink := audit.SinkFunc(func(ctx context.Context, e *audit.Event) error {
		last = *e
		return file.Emit(ctx, e)
	})
	br, err := breaker.New(breaker.Settings{FailureThreshold: 1, Cooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithAuditSink(sink), WithBreaker(br))

	ctx, cancel := context.WithCancel(context.Background())
	_, err = tw.Execute(ctx, agent, intent, req("mock:run"), func(ctx context.Context) (any, error) {
		cancel() // the client went away while the stream was sending
		return nil, callerLeft{ctx.Err()}
	})
	if _, isRefusal := err.(*tollgate.Error); err == nil || isRefusal {
		t.Fatalf("err = %v, want the tool's own error", err)
	}
	if want := "Call canceled: context canceled"; last.Outcome != tollgate.OutcomeCanceled || last.ResultSummary != want {
		t.Errorf("audited %s %q, want canceled %q", last.Outcome, last.ResultSummary, want)
	}
	// The breaker opens after one failure: a cancellation is not one.
	if _, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok); err != nil {
		t.Fatalf("next call = %v: the cancellation counted against the tool", err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	schema := compileAuditSchema(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		v, err := jsonschema.UnmarshalJSON(bytesReader(line))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("line %d does not match the published schema: %v\n%s", i+1, err, line)
		}
	}
}

// callerLeft is an error type of the front door's own, as a handler's
// error wrapped with the context's: its name must not reach the record.
type callerLeft struct{ ctxErr error }

func (e callerLeft) Error() string { return "stream ended: " + e.ctxErr.Error() }
func (e callerLeft) Unwrap() error { return e.ctxErr }
