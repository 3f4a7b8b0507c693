package approvalstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
)

// The cases below pin separation of duties and the two-person rule
// (Request.ApprovalsRequired): who may approve, how approvals add up, and
// that concurrent deciders never push a request past or short of N.

func (s *suite) requiring(n int) (approvals.Request, string) {
	s.t.Helper()
	r := s.request()
	r.ApprovalsRequired = n
	return r, s.create(r)
}

func (s *suite) vote(id, by string, out approvals.Outcome) error {
	return s.store.Decide(s.ctx, id, approvals.Decision{Outcome: out, By: by, Note: "by " + by, At: s.now})
}

// wantDecisions checks the decision list: who decided what, in order, with
// the note and time they gave.
func (s *suite) wantDecisions(rec approvals.Record, want ...string) {
	s.t.Helper()
	got := make([]string, len(rec.Decisions))
	for i, d := range rec.Decisions {
		got[i] = string(d.Outcome) + ":" + d.By
		if d.Note != "by "+d.By && d.Note != "checked" || !d.At.Equal(s.now) {
			s.t.Errorf("decision %d = %+v: note or time lost", i, d)
		}
	}
	if !slices.Equal(got, want) {
		s.t.Errorf("Decisions = %v, want %v", got, want)
	}
}

func (s *suite) createRefusesBadApprovalsRequired() {
	for _, n := range []int{-1, tollgate.MaxApprovalsRequired + 1} {
		r := s.request()
		r.ApprovalsRequired = n
		_, err := s.store.Create(s.ctx, r)
		s.wantErr(fmt.Sprintf("Create with ApprovalsRequired %d", n), err, approvals.ErrInvalidRequest)
	}
	r, id := s.requiring(tollgate.MaxApprovalsRequired)
	if got := s.get(id).Request.ApprovalsRequired; got != r.ApprovalsRequired {
		s.t.Errorf("stored ApprovalsRequired = %d, want %d", got, r.ApprovalsRequired)
	}
}

func (s *suite) twoPersonRule() {
	r, id := s.requiring(2)
	if err := s.vote(id, "alice", approvals.OutcomeApproved); err != nil {
		s.t.Fatalf("first approval: %v", err)
	}
	rec := s.get(id)
	if !rec.Pending() || rec.DecidedBy != "" || !rec.DecidedAt.IsZero() || rec.Request.ApprovalsRequired != 2 {
		s.t.Fatalf("after one of two approvals: %+v, want pending", rec)
	}
	s.wantDecisions(rec, "approved:alice")
	s.wantErr("Consume with one of two approvals", s.store.Consume(s.ctx, id, binding(r), s.now), approvals.ErrNotApproved)

	// One person never counts twice.
	s.wantErr("second approval by alice", s.vote(id, "alice", approvals.OutcomeApproved), approvals.ErrDuplicateApprover)
	if rec := s.get(id); !rec.Pending() || len(rec.Decisions) != 1 {
		s.t.Fatalf("a duplicate approval changed the record: %+v", rec)
	}

	if err := s.vote(id, "bob", approvals.OutcomeApproved); err != nil {
		s.t.Fatalf("second approver: %v", err)
	}
	rec = s.get(id)
	if rec.Outcome != approvals.OutcomeApproved || rec.DecidedBy != "bob" || rec.Note != "by bob" || !rec.DecidedAt.Equal(s.now) {
		s.t.Fatalf("after two approvals: %+v, want approved by bob", rec)
	}
	s.wantDecisions(rec, "approved:alice", "approved:bob")
	if got := rec.Approvers(); !slices.Equal(got, []string{"alice", "bob"}) {
		s.t.Errorf("Approvers() = %v", got)
	}
	s.wantErr("a third approval", s.vote(id, "carol", approvals.OutcomeApproved), approvals.ErrAlreadyDecided)
	if err := s.store.Consume(s.ctx, id, binding(r), s.now); err != nil {
		s.t.Errorf("Consume after two approvals: %v", err)
	}
}

func (s *suite) denyEndsPartialApprovals() {
	r, id := s.requiring(3)
	for _, by := range []string{"alice", "bob"} {
		if err := s.vote(id, by, approvals.OutcomeApproved); err != nil {
			s.t.Fatalf("approval by %s: %v", by, err)
		}
	}
	if err := s.vote(id, "carol", approvals.OutcomeDenied); err != nil {
		s.t.Fatalf("deny: %v", err)
	}
	rec := s.get(id)
	if rec.Outcome != approvals.OutcomeDenied || rec.DecidedBy != "carol" {
		s.t.Fatalf("after a deny: %+v, want denied by carol", rec)
	}
	s.wantDecisions(rec, "approved:alice", "approved:bob", "denied:carol")
	s.wantErr("approval after deny", s.vote(id, "dave", approvals.OutcomeApproved), approvals.ErrAlreadyDecided)
	s.wantErr("Consume after deny", s.store.Consume(s.ctx, id, binding(r), s.now), approvals.ErrNotApproved)

	// An approver may change their mind, but only towards no.
	_, other := s.requiring(2)
	if err := s.vote(other, "alice", approvals.OutcomeApproved); err != nil {
		s.t.Fatal(err)
	}
	if err := s.vote(other, "alice", approvals.OutcomeDenied); err != nil {
		s.t.Fatalf("deny after own approval: %v", err)
	}
	if rec := s.get(other); rec.Outcome != approvals.OutcomeDenied {
		s.t.Errorf("deny after own approval left %s", rec.Outcome)
	}
}

func (s *suite) selfApprovalRefused() {
	r, id := s.requiring(0)
	for _, by := range append([]string{r.Agent.ID}, r.Agent.DelegatedBy...) {
		s.wantErr("approval by "+by, s.vote(id, by, approvals.OutcomeApproved), approvals.ErrSelfApproval)
	}
	if rec := s.get(id); !rec.Pending() || len(rec.Decisions) != 0 {
		s.t.Fatalf("a refused self-approval changed the record: %+v", rec)
	}
	// Refusing one's own call is harmless, so it is allowed.
	if err := s.vote(id, r.Agent.ID, approvals.OutcomeDenied); err != nil {
		s.t.Fatalf("the agent denying its own call: %v", err)
	}
	if rec := s.get(id); rec.Outcome != approvals.OutcomeDenied || rec.DecidedBy != r.Agent.ID {
		s.t.Errorf("after the agent's own deny: %+v", rec)
	}
}

// concurrentApprovalsReachExactlyN races more distinct approvers than
// needed: exactly N approvals count, and everyone else learns the request
// was already decided. Then one approver racing itself counts once.
func (s *suite) concurrentApprovalsReachExactlyN() {
	const n, deciders = 3, 12
	_, id := s.requiring(n)
	errs := s.race(deciders, func(i int) error { return s.vote(id, fmt.Sprintf("admin-%02d", i), approvals.OutcomeApproved) })
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, approvals.ErrAlreadyDecided):
			s.t.Errorf("losing approval: err = %v, want ErrAlreadyDecided", err)
		}
	}
	rec := s.get(id)
	if wins != n || rec.Outcome != approvals.OutcomeApproved || len(rec.Decisions) != n || len(rec.Approvers()) != n {
		s.t.Fatalf("%d concurrent approvers of a request needing %d: %d succeeded, record %s with %d decisions", deciders, n, wins, rec.Outcome, len(rec.Decisions))
	}

	_, same := s.requiring(2)
	errs = s.race(deciders, func(int) error { return s.vote(same, "alice", approvals.OutcomeApproved) })
	wins = 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, approvals.ErrDuplicateApprover):
			s.t.Errorf("repeated approval: err = %v, want ErrDuplicateApprover", err)
		}
	}
	if rec := s.get(same); wins != 1 || !rec.Pending() || len(rec.Decisions) != 1 {
		s.t.Fatalf("one approver %d times at once: %d counted, record %+v; want 1, still pending", deciders, wins, rec)
	}
}

// race runs f(0) … f(n-1) at once and returns their errors.
func (s *suite) race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// waitIgnoresPartialApprovals: a waiter (QueueApprover) must not wake up
// to an approval short of the number required: Wait returns the settled
// record, never the one with only the first approval.
func (s *suite) waitIgnoresPartialApprovals() {
	_, id := s.requiring(2)
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second) // bounds a broken store only
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
	if err := s.vote(id, "alice", approvals.OutcomeApproved); err != nil {
		s.t.Fatal(err)
	}
	// Proving that something does not happen takes a moment of waiting; a
	// store that wakes on a partial approval returns well within it.
	select {
	case w := <-done:
		s.t.Fatalf("Wait returned after one of two approvals: %s, %v", w.rec.Outcome, w.err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := s.vote(id, "bob", approvals.OutcomeApproved); err != nil {
		s.t.Fatal(err)
	}
	w := <-done
	if w.err != nil || w.rec.Outcome != approvals.OutcomeApproved || len(w.rec.Decisions) != 2 {
		s.t.Fatalf("Wait = %s with %d decisions, %v; want approved by both", w.rec.Outcome, len(w.rec.Decisions), w.err)
	}
}
