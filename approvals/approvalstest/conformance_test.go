package approvalstest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
)

// mutantEnv selects the broken store TestMutantSubprocess runs the suite on.
const mutantEnv = "APPROVALSTEST_MUTANT"

// TestSuiteCatchesMutants proves that the suite has teeth: each deliberately
// broken store must make it fail, in the subtest named here. The suite runs
// in a child process because a failing subtest cannot be contained in-process.
func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for mutant, subtest := range map[string]string{
		"none":                   "",
		"overwrite-decision":     "DecideOnlyOnce",
		"decide-after-expiry":    "DecideRefusesExpired",
		"no-binding-check":       "ConsumeRefusesMismatch",
		"no-used-check":          "ConsumeExactlyOnceUnderConcurrency",
		"no-expiry-check":        "ConsumeRefusesExpired",
		"consume-pending":        "ConsumeRefusesUnapproved",
		"zero-now-ok":            "ConsumeRefusesBadArguments",
		"shared-request":         "StoredRequestIsACopy",
		"newest-first":           "List",
		"self-approval":          "SelfApprovalRefused",
		"count-duplicates":       "TwoPersonRule",
		"first-approval-settles": "TwoPersonRule",
		"wake-on-partial":        "WaitIgnoresPartialApprovals",
		"no-required-check":      "CreateRefusesBadApprovalsRequired",
	} {
		t.Run(mutant, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutantSubprocess$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+mutant)
			out, err := cmd.CombinedOutput()
			if subtest == "" {
				if err != nil {
					t.Fatalf("correct store failed the suite: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("suite passed a store with mutation %q", mutant)
			}
			if !strings.Contains(string(out), "--- FAIL: TestMutantSubprocess/"+subtest) {
				t.Errorf("mutation %q not caught by %s:\n%s", mutant, subtest, out)
			}
		})
	}
}

func TestMutantSubprocess(t *testing.T) {
	mutant := os.Getenv(mutantEnv)
	if mutant == "" {
		t.Skip("only run by TestSuiteCatchesMutants")
	}
	approvalstest.RunConformance(t, func(*testing.T) approvals.Store {
		return &naive{mutant: mutant, byID: map[string]*naiveEntry{}}
	})
}

// naive is a deliberately simple Store; mutant names one behaviour to break.
type naive struct {
	mutant string
	mu     sync.Mutex
	order  []string
	byID   map[string]*naiveEntry
	next   int
}

type naiveEntry struct {
	rec     approvals.Record
	decided chan struct{}
}

func (n *naive) Create(ctx context.Context, r approvals.Request) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if r.ExpiresAt.IsZero() {
		return "", approvals.ErrInvalidRequest
	}
	if (r.ApprovalsRequired < 0 || r.ApprovalsRequired > tollgate.MaxApprovalsRequired) && n.mutant != "no-required-check" {
		return "", approvals.ErrInvalidRequest
	}
	if n.mutant != "shared-request" {
		r = deepCopy(r)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.ID == "" {
		n.next++
		r.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", n.next)
	}
	if n.byID[r.ID] != nil {
		return "", approvals.ErrExists
	}
	n.byID[r.ID] = &naiveEntry{
		rec: approvals.Record{
			Request: r, BindingHash: approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest),
			CreatedAt: time.Now(), Outcome: approvals.OutcomeDeferred,
		},
		decided: make(chan struct{}),
	}
	if n.mutant == "newest-first" {
		n.order = slices.Insert(n.order, 0, r.ID)
	} else {
		n.order = append(n.order, r.ID)
	}
	return r.ID, nil
}

// deepCopy copies a request through its own binding-relevant parts; the
// test values only nest Params and []any.
func deepCopy(r approvals.Request) approvals.Request {
	var cp func(v any) any
	cp = func(v any) any {
		switch t := v.(type) {
		case tollgate.Params:
			out := make(tollgate.Params, len(t))
			for i, f := range t {
				out[i] = tollgate.Field{Key: f.Key, Value: cp(f.Value)}
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, e := range t {
				out[i] = cp(e)
			}
			return out
		}
		return v
	}
	r.Agent.DelegatedBy = slices.Clone(r.Agent.DelegatedBy)
	r.ToolRequest.Params, _ = cp(r.ToolRequest.Params).(tollgate.Params)
	r.ToolRequest.Metadata, _ = cp(r.ToolRequest.Metadata).(tollgate.Params)
	return r
}

func (n *naive) Get(_ context.Context, id string) (approvals.Record, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e := n.byID[id]
	if e == nil {
		return approvals.Record{}, approvals.ErrNotFound
	}
	rec := e.rec
	if n.mutant != "shared-request" {
		rec.Request = deepCopy(rec.Request)
	}
	return rec, nil
}

func (n *naive) Decide(_ context.Context, id string, d approvals.Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	e := n.byID[id]
	switch {
	case e == nil:
		return approvals.ErrNotFound
	case !e.rec.Pending() && n.mutant != "overwrite-decision":
		return approvals.ErrAlreadyDecided
	case !d.At.Before(e.rec.Request.ExpiresAt) && n.mutant != "decide-after-expiry":
		return approvals.ErrExpired
	}
	if d.Outcome == approvals.OutcomeApproved {
		switch {
		case e.rec.Request.Involves(d.By) && n.mutant != "self-approval":
			return approvals.ErrSelfApproval
		case slices.Contains(e.rec.Approvers(), d.By) && n.mutant != "count-duplicates":
			return approvals.ErrDuplicateApprover
		}
	}
	wasPending := e.rec.Pending()
	e.rec.Decisions = append(e.rec.Decisions, d)
	need := e.rec.Request.Required()
	if n.mutant == "first-approval-settles" {
		need = 1
	}
	if d.Outcome == approvals.OutcomeDenied || len(e.rec.Approvers()) >= need {
		e.rec.Outcome, e.rec.DecidedBy, e.rec.Note, e.rec.DecidedAt = d.Outcome, d.By, d.Note, d.At
	}
	if wasPending && (!e.rec.Pending() || n.mutant == "wake-on-partial") {
		select {
		case <-e.decided: // woken already (wake-on-partial)
		default:
			close(e.decided)
		}
	}
	return nil
}

func (n *naive) Wait(ctx context.Context, id string) (approvals.Record, error) {
	n.mu.Lock()
	e := n.byID[id]
	n.mu.Unlock()
	if e == nil {
		return approvals.Record{}, approvals.ErrNotFound
	}
	select {
	case <-e.decided:
	case <-ctx.Done():
	}
	return n.Get(ctx, id)
}

func (n *naive) Consume(ctx context.Context, id, hash string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if now.IsZero() && n.mutant != "zero-now-ok" {
		return fmt.Errorf("zero now")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	e := n.byID[id]
	switch {
	case e == nil:
		return approvals.ErrNotFound
	case hash != e.rec.BindingHash && n.mutant != "no-binding-check":
		return approvals.ErrMismatch
	case e.rec.Outcome != approvals.OutcomeApproved && !(e.rec.Pending() && n.mutant == "consume-pending"):
		return approvals.ErrNotApproved
	case !e.rec.UsedAt.IsZero() && n.mutant != "no-used-check":
		return approvals.ErrUsed
	case !now.Before(e.rec.Request.ExpiresAt) && n.mutant != "no-expiry-check":
		return approvals.ErrExpired
	}
	e.rec.UsedAt = now
	return nil
}

func (n *naive) List(_ context.Context, pendingOnly bool) ([]approvals.Record, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []approvals.Record
	for _, id := range n.order {
		if rec := n.byID[id].rec; !pendingOnly || rec.Pending() {
			out = append(out, rec)
		}
	}
	return out, nil
}
