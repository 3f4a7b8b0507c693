package tower

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/ratelimit"
)

const enforcedPolicy = `version: "enforced"
rules:
  - id: allow_run
    tool: "mock:run"
    decision: ALLOW
    reason: "runs are fine"
  - id: ask_write
    tool: "mock:write"
    decision: ASK
    reason: "writes need a human"
  - id: deny_rest
    decision: DENY
    reason: "nothing else"
`

// candidatePolicy disagrees on mock:run (DENY) and mock:write (ALLOW) and
// agrees on api:delete (the same decision and rule id).
const candidatePolicy = `version: "candidate"
rules:
  - id: deny_run
    tool: "mock:run"
    decision: DENY
    reason: "runs are over"
  - id: allow_write
    tool: "mock:write"
    decision: ALLOW
    reason: "writes are fine now"
  - id: deny_rest
    decision: DENY
    reason: "still nothing else"
`

func parsePolicy(t testing.TB, name, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// countingLimiter allows max calls and counts every question.
type countingLimiter struct{ asked, max int }

func (l *countingLimiter) Allow(context.Context, tollgate.Agent, tollgate.ToolRequest) (ratelimit.Result, error) {
	l.asked++
	return ratelimit.Result{Allowed: l.asked <= l.max, RetryAfter: time.Second}, nil
}

type shadowRun struct {
	results   []string
	events    []audit.Event
	grantUses int
	limiter   *countingLimiter
}

// runShadowed runs one sequence of calls on a fresh Tower, with candidate
// as its shadow (nil: none).
func runShadowed(t *testing.T, candidate *Config) (shadowRun, *Tower) {
	t.Helper()
	store := grants.NewMemory()
	g, err := store.Create(context.Background(), grants.Grant{ID: "grant-1", Tool: "mock:write", MaxUses: 2,
		ExpiresAt: time.Unix(1_900_000_000, 0), CreatedAt: time.Unix(1_700_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	lim := &countingLimiter{max: 6}
	n := 0
	tw, rec := newTower(t, &Config{Policy: parsePolicy(t, "enforced.yaml", enforcedPolicy), Limiter: lim},
		WithGrants(store), WithShadow(candidate),
		WithIDGenerator(func() string { n++; return "call-" + strconv.Itoa(n) }))
	var run shadowRun
	for _, tool := range []string{"mock:run", "mock:write", "api:delete", "mock:write", "mock:write", "mock:run", "mock:run"} {
		res, err := tw.Execute(context.Background(), agent, intent, req(tool), ok)
		var te *tollgate.Error
		if errors.As(err, &te) {
			run.results = append(run.results, string(te.Reason)+" "+te.Message)
		} else {
			run.results = append(run.results, fmt.Sprint(res, err))
		}
	}
	got, _, _ := store.Get(context.Background(), g.ID)
	run.grantUses, run.limiter, run.events = got.Uses, lim, rec.events
	return run, tw
}

func TestShadowDisagreementsAreRecordedAndChangeNothing(t *testing.T) {
	candLimiter := &countingLimiter{max: 0} // would refuse everything, if asked
	candidate := &Config{Policy: parsePolicy(t, "candidate.yaml", candidatePolicy), Limiter: candLimiter}
	plain, _ := runShadowed(t, nil)
	shadowed, tw := runShadowed(t, candidate)

	if !reflect.DeepEqual(shadowed.results, plain.results) {
		t.Errorf("results changed by shadow mode:\n got %q\nwant %q", shadowed.results, plain.results)
	}
	if shadowed.grantUses != plain.grantUses || shadowed.grantUses != 2 {
		t.Errorf("grant uses: %d with shadow, %d without, want 2", shadowed.grantUses, plain.grantUses)
	}
	if shadowed.limiter.asked != plain.limiter.asked || candLimiter.asked != 0 {
		t.Errorf("limiter asked %d times with shadow, %d without; candidate's limiter %d, want 0",
			shadowed.limiter.asked, plain.limiter.asked, candLimiter.asked)
	}
	if len(shadowed.events) != len(plain.events) {
		t.Fatalf("%d audit records with shadow, %d without", len(shadowed.events), len(plain.events))
	}
	disagreeing := map[string]bool{}
	for i, e := range shadowed.events {
		p := plain.events[i]
		if p.Shadow != nil {
			t.Fatalf("record %d has a shadow key without shadow mode", i)
		}
		s := e.Shadow
		e.Shadow = nil
		if !reflect.DeepEqual(e, p) {
			t.Errorf("record %d changed by shadow mode:\n got %+v\nwant %+v", i, e, p)
		}
		switch tool := e.ToolRequest.Tool; {
		case e.Stage == tollgate.StageRateLimit:
			if s != nil {
				t.Errorf("a call refused before the policy stage was shadowed: %+v", s)
			}
		case tool == "api:delete":
			if s != nil {
				t.Errorf("agreeing decision recorded as a disagreement: %+v", s)
			}
		case tool == "mock:run":
			if want := (audit.Shadow{Decision: "DENY", Rule: "deny_run", Reason: "runs are over"}); s == nil || *s != want {
				t.Errorf("mock:run shadow = %+v, want %+v", s, want)
			}
			disagreeing[e.CorrelationID] = true
		case tool == "mock:write":
			if want := (audit.Shadow{Decision: "ALLOW", Rule: "allow_write", Reason: "writes are fine now"}); s == nil || *s != want {
				t.Errorf("mock:write shadow = %+v, want %+v", s, want)
			}
			disagreeing[e.CorrelationID] = true
		}
	}
	if got := tw.ShadowDisagreements(); got != uint64(len(disagreeing)) || got != 5 {
		t.Errorf("ShadowDisagreements = %d, want %d (5 calls reached the policy and disagreed)", got, len(disagreeing))
	}
}

func TestShadowPanicChangesNothing(t *testing.T) {
	boom := policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision { panic("boom") })
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithShadow(&Config{Policy: boom}))
	if res, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok); err != nil || res != "ok" {
		t.Fatalf("Execute = %v, %v", res, err)
	}
	if e := rec.last(t); e.Shadow != nil || e.Outcome != tollgate.OutcomeExecuted || tw.ShadowDisagreements() != 0 {
		t.Errorf("a panicking candidate left a trace: %+v", e)
	}
}

func TestSetShadow(t *testing.T) {
	if _, err := New(&Config{Policy: fixed(tollgate.Allow)}, WithShadow(&Config{})); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("New with a policy-less candidate: %v", err)
	}
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	if err := tw.SetShadow(&Config{}); !errors.Is(err, ErrNoPolicy) || tw.Shadow() != nil {
		t.Errorf("SetShadow without a policy: %v", err)
	}
	if err := tw.SetShadow(&Config{Policy: fixed(tollgate.Deny)}); err != nil || tw.Shadow() == nil {
		t.Fatal(err)
	}
	_, _ = tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	if rec.last(t).Shadow == nil {
		t.Error("SetShadow took no effect")
	}
	_ = tw.SetShadow(nil)
	_, _ = tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	if rec.last(t).Shadow != nil || tw.ShadowDisagreements() != 1 {
		t.Errorf("SetShadow(nil) left shadow mode on (%d disagreements)", tw.ShadowDisagreements())
	}
}

// BenchmarkPipelineShadow is BenchmarkPipeline with a candidate that
// disagrees on every call (the costlier case: its decision is recorded).
// The difference between the two is shadow mode's cost per call.
func BenchmarkPipelineShadow(b *testing.B) {
	sink, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	benchShadow(b, sink)
}

// BenchmarkPipelineShadowDiscard is BenchmarkPipelineDiscard with the
// disagreeing candidate.
func BenchmarkPipelineShadowDiscard(b *testing.B) { benchShadow(b, audit.Discard) }

func benchShadow(b *testing.B, sink audit.Sink) {
	tw, call := pipelineCall(b, sink)
	if err := tw.SetShadow(&Config{Policy: parsePolicy(b, "candidate.yaml", `version: "2.0"
rules:
  - id: ask_writes
    effect: write
    decision: ASK
    reason: "writes need a human now"
  - id: deny_default
    decision: DENY
`)}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			b.Fatal(err)
		}
	}
	if tw.ShadowDisagreements() == 0 {
		b.Fatal("the candidate never disagreed")
	}
}
