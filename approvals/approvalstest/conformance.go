package approvalstest

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

// RunConformance runs the suite as subtests of t. newStore must return a new,
// empty store each time it is called; it is called once per subtest.
func RunConformance(t *testing.T, newStore func(t *testing.T) approvals.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := time.Now().Truncate(time.Second).Add(time.Hour)
			c.run(&suite{t: t, store: newStore(t), ctx: t.Context(), now: now})
		})
	}
}

var cases = []struct {
	name string
	run  func(*suite)
}{
	{"CreateAndGet", (*suite).createAndGet},
	{"CreateRefusesDuplicateID", (*suite).createRefusesDuplicateID},
	{"CreateRefusesMissingExpiry", (*suite).createRefusesMissingExpiry},
	{"UnknownID", (*suite).unknownID},
	{"DecideOnlyOnce", (*suite).decideOnlyOnce},
	{"DecideRefusesInvalidDecisions", (*suite).decideRefusesInvalid},
	{"DecideRefusesExpired", (*suite).decideRefusesExpired},
	{"ConsumeExactlyOnceUnderConcurrency", (*suite).consumeExactlyOnce},
	{"ConsumeRefusesMismatch", (*suite).consumeRefusesMismatch},
	{"ConsumeRefusesExpired", (*suite).consumeRefusesExpired},
	{"ConsumeRefusesUnapproved", (*suite).consumeRefusesUnapproved},
	{"ConsumeRefusesBadArguments", (*suite).consumeRefusesBadArguments},
	{"WaitWakesOnDecide", (*suite).waitWakesOnDecide},
	{"WaitReturnsCurrentStateWhenContextEnds", (*suite).waitReturnsCurrentState},
	{"List", (*suite).list},
	{"StoredRequestIsACopy", (*suite).storedRequestIsACopy},
	{"CreateRefusesBadApprovalsRequired", (*suite).createRefusesBadApprovalsRequired},
	{"TwoPersonRule", (*suite).twoPersonRule},
	{"DenyEndsPartialApprovals", (*suite).denyEndsPartialApprovals},
	{"SelfApprovalRefused", (*suite).selfApprovalRefused},
	{"ConcurrentApprovalsReachExactlyN", (*suite).concurrentApprovalsReachExactlyN},
	{"WaitIgnoresPartialApprovals", (*suite).waitIgnoresPartialApprovals},
}

type suite struct {
	t     *testing.T
	store approvals.Store
	ctx   context.Context
	now   time.Time
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func (s *suite) request() approvals.Request {
	conf := 0.9
	r := approvals.Request{
		Agent: tollgate.Agent{
			ID: "agent-1", Version: "1.0.0", Owner: "team-a", DelegatedBy: []string{"orchestrator"},
			Metadata: tollgate.Params{{Key: "env", Value: "prod"}},
		},
		Intent: tollgate.Intent{Action: "cleanup", Reason: "remove stale files", Confidence: &conf},
		ToolRequest: tollgate.ToolRequest{
			Tool: "api:delete_resource", Action: "delete", ResourceType: "resource", Effect: tollgate.EffectDelete,
			Params:          tollgate.Params{{Key: "resource_id", Value: "res-42"}, {Key: "opts", Value: tollgate.Params{{Key: "force", Value: true}, {Key: "tags", Value: []any{"a", nil}}}}},
			Metadata:        tollgate.Params{{Key: "ticket", Value: "OPS-1"}},
			ManifestVersion: "1.0.0",
		},
		Reason: "deletes need approval", PolicyID: "ask_deletes",
		ExpiresAt: s.now.Add(time.Hour),
	}
	r.RequestHash = approvals.RequestHash(r.Agent, r.Intent, r.ToolRequest)
	return r
}

func binding(r approvals.Request) string {
	return approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
}

func (s *suite) create(r approvals.Request) string {
	s.t.Helper()
	id, err := s.store.Create(s.ctx, r)
	if err != nil {
		s.t.Fatalf("Create: %v", err)
	}
	return id
}

func (s *suite) get(id string) approvals.Record {
	s.t.Helper()
	rec, err := s.store.Get(s.ctx, id)
	if err != nil {
		s.t.Fatalf("Get(%q): %v", id, err)
	}
	return rec
}

func (s *suite) decide(id string, out approvals.Outcome) {
	s.t.Helper()
	if err := s.store.Decide(s.ctx, id, approvals.Decision{Outcome: out, By: "alice", Note: "checked", At: s.now}); err != nil {
		s.t.Fatalf("Decide(%q, %s): %v", id, out, err)
	}
}

// approved creates a request and approves it.
func (s *suite) approved() (approvals.Request, string) {
	s.t.Helper()
	r := s.request()
	id := s.create(r)
	s.decide(id, approvals.OutcomeApproved)
	return r, id
}

func (s *suite) wantErr(what string, err, want error) {
	s.t.Helper()
	if !errors.Is(err, want) {
		s.t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func (s *suite) createAndGet() {
	r := s.request()
	id := s.create(r)
	if !uuidV4.MatchString(id) {
		s.t.Fatalf("ID %q is not a random UUIDv4", id)
	}
	rec := s.get(id)
	got := rec.Request
	if got.ID != id || got.RequestHash != r.RequestHash || got.Reason != r.Reason || got.PolicyID != r.PolicyID ||
		!got.ExpiresAt.Equal(r.ExpiresAt) {
		s.t.Errorf("stored request %+v, created from %+v", got, r)
	}
	// The binding hash covers everything the call is bound to, so equal
	// hashes show that the stored request round-tripped.
	if rec.BindingHash != binding(r) || binding(got) != binding(r) {
		s.t.Errorf("binding hash: stored %s, of stored request %s, want %s", rec.BindingHash, binding(got), binding(r))
	}
	if !rec.Pending() || rec.Outcome != approvals.OutcomeDeferred || rec.DecidedBy != "" || !rec.DecidedAt.IsZero() || !rec.UsedAt.IsZero() {
		s.t.Errorf("new record is not pending: %+v", rec)
	}
	if rec.CreatedAt.IsZero() {
		s.t.Error("CreatedAt is zero")
	}
	if other := s.create(s.request()); other == id {
		s.t.Errorf("two requests got the same ID %q", id)
	}
}

func (s *suite) createRefusesDuplicateID() {
	r := s.request()
	r.ID = "approval-1"
	if id := s.create(r); id != "approval-1" {
		s.t.Fatalf("Create returned %q, want the given ID", id)
	}
	dup := s.request()
	dup.ID, dup.Reason = "approval-1", "overwritten"
	_, err := s.store.Create(s.ctx, dup)
	s.wantErr("duplicate Create", err, approvals.ErrExists)
	if got := s.get("approval-1").Request.Reason; got != r.Reason {
		s.t.Errorf("duplicate Create overwrote the request: reason %q", got)
	}
}

func (s *suite) createRefusesMissingExpiry() {
	r := s.request()
	r.ExpiresAt = time.Time{}
	_, err := s.store.Create(s.ctx, r)
	s.wantErr("Create without ExpiresAt", err, approvals.ErrInvalidRequest)
}

func (s *suite) unknownID() {
	_, err := s.store.Get(s.ctx, "nope")
	s.wantErr("Get", err, approvals.ErrNotFound)
	err = s.store.Decide(s.ctx, "nope", approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: s.now})
	s.wantErr("Decide", err, approvals.ErrNotFound)
	_, err = s.store.Wait(s.ctx, "nope")
	s.wantErr("Wait", err, approvals.ErrNotFound)
	s.wantErr("Consume", s.store.Consume(s.ctx, "nope", binding(s.request()), s.now), approvals.ErrNotFound)
}

func (s *suite) decideOnlyOnce() {
	_, id := s.approved()
	for _, out := range []approvals.Outcome{approvals.OutcomeDenied, approvals.OutcomeApproved} {
		err := s.store.Decide(s.ctx, id, approvals.Decision{Outcome: out, By: "mallory", At: s.now.Add(time.Second)})
		s.wantErr("second Decide "+string(out), err, approvals.ErrAlreadyDecided)
	}
	rec := s.get(id)
	if rec.Outcome != approvals.OutcomeApproved || rec.DecidedBy != "alice" || rec.Note != "checked" || !rec.DecidedAt.Equal(s.now) {
		s.t.Errorf("decision changed: %+v", rec)
	}
	s.wantDecisions(rec, "approved:alice")

	denied := s.create(s.request())
	s.decide(denied, approvals.OutcomeDenied)
	err := s.store.Decide(s.ctx, denied, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "mallory", At: s.now})
	s.wantErr("approve after deny", err, approvals.ErrAlreadyDecided)
	if rec := s.get(denied); rec.Outcome != approvals.OutcomeDenied {
		s.t.Errorf("denied request became %s", rec.Outcome)
	}
}

func (s *suite) decideRefusesInvalid() {
	id := s.create(s.request())
	for name, d := range map[string]approvals.Decision{
		"deferred":   {Outcome: approvals.OutcomeDeferred, By: "alice", At: s.now},
		"timeout":    {Outcome: approvals.OutcomeTimeout, By: "alice", At: s.now},
		"empty":      {By: "alice", At: s.now},
		"upper-case": {Outcome: "APPROVED", By: "alice", At: s.now},
		"no decider": {Outcome: approvals.OutcomeApproved, At: s.now},
		"no time":    {Outcome: approvals.OutcomeApproved, By: "alice"},
	} {
		s.wantErr(name, s.store.Decide(s.ctx, id, d), approvals.ErrInvalidDecision)
	}
	if !s.get(id).Pending() {
		s.t.Error("a refused decision changed the record")
	}
}

func (s *suite) decideRefusesExpired() {
	r := s.request()
	id := s.create(r)
	err := s.store.Decide(s.ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: r.ExpiresAt})
	s.wantErr("Decide at expiry", err, approvals.ErrExpired)
	if !s.get(id).Pending() {
		s.t.Error("a refused decision changed the record")
	}
}

func (s *suite) consumeExactlyOnce() {
	const callers = 50
	r, id := s.approved()
	hash := binding(r)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			errs[i] = s.store.Consume(s.ctx, id, hash, s.now)
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, approvals.ErrUsed):
			s.t.Errorf("losing Consume: err = %v, want ErrUsed", err)
		}
	}
	if wins != 1 {
		s.t.Fatalf("%d concurrent Consume calls: %d succeeded, want exactly 1", callers, wins)
	}
	if rec := s.get(id); !rec.UsedAt.Equal(s.now) {
		s.t.Errorf("UsedAt = %v, want %v", rec.UsedAt, s.now)
	}
	s.wantErr("Consume after use", s.store.Consume(s.ctx, id, hash, s.now), approvals.ErrUsed)
}

func (s *suite) consumeRefusesMismatch() {
	r, id := s.approved()
	changed := func(f func(*approvals.Request)) string {
		c := s.request()
		f(&c)
		return binding(c)
	}
	for name, hash := range map[string]string{
		"other params": changed(func(c *approvals.Request) {
			c.ToolRequest.Params = tollgate.Params{{Key: "resource_id", Value: "res-43"}}
		}),
		"other delegation": changed(func(c *approvals.Request) { c.Agent.DelegatedBy = nil }),
		"other owner":      changed(func(c *approvals.Request) { c.Agent.Owner = "team-b" }),
		"request hash":     r.RequestHash,
		"empty":            "",
	} {
		s.wantErr(name, s.store.Consume(s.ctx, id, hash, s.now), approvals.ErrMismatch)
	}
	if err := s.store.Consume(s.ctx, id, binding(r), s.now); err != nil {
		s.t.Errorf("Consume by the right call after mismatches: %v", err)
	}
}

func (s *suite) consumeRefusesExpired() {
	r, id := s.approved()
	s.wantErr("Consume at expiry", s.store.Consume(s.ctx, id, binding(r), r.ExpiresAt), approvals.ErrExpired)
	s.wantErr("Consume after expiry", s.store.Consume(s.ctx, id, binding(r), r.ExpiresAt.Add(time.Hour)), approvals.ErrExpired)
	if err := s.store.Consume(s.ctx, id, binding(r), r.ExpiresAt.Add(-time.Second)); err != nil {
		s.t.Errorf("Consume just before expiry: %v", err)
	}
}

func (s *suite) consumeRefusesUnapproved() {
	r := s.request()
	pending := s.create(r)
	s.wantErr("pending", s.store.Consume(s.ctx, pending, binding(r), s.now), approvals.ErrNotApproved)
	denied := s.create(r)
	s.decide(denied, approvals.OutcomeDenied)
	s.wantErr("denied", s.store.Consume(s.ctx, denied, binding(r), s.now), approvals.ErrNotApproved)
	if rec := s.get(denied); !rec.UsedAt.IsZero() {
		s.t.Errorf("refused Consume marked the request used: %+v", rec)
	}
}

func (s *suite) consumeRefusesBadArguments() {
	r, id := s.approved()
	if err := s.store.Consume(s.ctx, id, binding(r), time.Time{}); err == nil {
		s.t.Error("Consume with a zero time succeeded")
	}
	canceled, cancel := context.WithCancel(s.ctx)
	cancel()
	if err := s.store.Consume(canceled, id, binding(r), s.now); err == nil {
		s.t.Error("Consume with a canceled context succeeded")
	}
	if err := s.store.Consume(s.ctx, id, binding(r), s.now); err != nil {
		s.t.Errorf("refused Consume calls spent the approval: %v", err)
	}
}

func (s *suite) waitWakesOnDecide() {
	id := s.create(s.request())
	// The deadline only bounds a broken store; a correct one returns as soon
	// as the decision lands.
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	type waited struct {
		rec approvals.Record
		err error
	}
	done := make(chan waited, 1)
	go func() {
		rec, err := s.store.Wait(ctx, id)
		done <- waited{rec, err}
	}()
	s.decide(id, approvals.OutcomeDenied)
	w := <-done
	if w.err != nil || w.rec.Outcome != approvals.OutcomeDenied || w.rec.DecidedBy != "alice" {
		s.t.Fatalf("Wait = %+v, %v; want the denial", w.rec, w.err)
	}
	if ctx.Err() != nil {
		s.t.Fatal("Wait returned only when its deadline passed")
	}
	// Already decided: Wait returns at once, even with an ended context.
	cancel()
	if rec, err := s.store.Wait(ctx, id); err != nil || rec.Outcome != approvals.OutcomeDenied {
		s.t.Errorf("Wait on a decided request = %+v, %v", rec, err)
	}
}

func (s *suite) waitReturnsCurrentState() {
	id := s.create(s.request())
	ctx, cancel := context.WithCancel(s.ctx)
	cancel()
	rec, err := s.store.Wait(ctx, id)
	if err != nil || !rec.Pending() || rec.Request.ID != id {
		s.t.Errorf("Wait with an ended context = %+v, %v; want the pending record", rec, err)
	}
}

func (s *suite) list() {
	ids := make([]string, 3)
	for i := range ids {
		r := s.request()
		r.ID = []string{"c-first", "a-second", "b-third"}[i]
		ids[i] = s.create(r)
	}
	s.decide(ids[1], approvals.OutcomeApproved)
	for _, c := range []struct {
		pendingOnly bool
		want        []string
	}{{false, ids}, {true, []string{ids[0], ids[2]}}} {
		recs, err := s.store.List(s.ctx, c.pendingOnly)
		got := make([]string, len(recs))
		for i, rec := range recs {
			got[i] = rec.Request.ID
		}
		if err != nil || !slices.Equal(got, c.want) {
			s.t.Errorf("List(pendingOnly=%v) = %v, %v; want %v", c.pendingOnly, got, err, c.want)
		}
	}
}

func (s *suite) storedRequestIsACopy() {
	r := s.request()
	want := binding(r)
	id := s.create(r)
	r.ToolRequest.Params[0].Value = "res-evil"
	r.Agent.DelegatedBy[0] = "rogue"
	rec := s.get(id)
	if binding(rec.Request) != want {
		s.t.Fatal("changing the caller's request after Create changed the stored one")
	}
	rec.Request.ToolRequest.Params[0].Value = "res-evil"
	if binding(s.get(id).Request) != want {
		s.t.Error("changing a returned record changed the stored one")
	}
}
