package tower

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
)

type observed struct {
	mu    sync.Mutex
	calls []CallInfo
}

func (o *observed) CallDone(c CallInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, c)
}

func (o *observed) only(t *testing.T) CallInfo {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.calls) != 1 {
		t.Fatalf("observed %d calls, want 1", len(o.calls))
	}
	c := o.calls[0]
	o.calls = nil
	return c
}

func reached(c CallInfo) []tollgate.Stage {
	var out []tollgate.Stage
	c.Stages.Each(func(_ int, s tollgate.Stage, d time.Duration) {
		if d < 0 {
			panic("negative stage time")
		}
		out = append(out, s)
	})
	return out
}

func TestObserverSeesEveryExit(t *testing.T) {
	obs := &observed{}
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithObserver(obs), WithStageSampling(1))
	ctx := context.Background()

	if _, err := tw.ExecuteCall(ctx, Call{Credentials: claimed, Request: req("mock:run")}, ok); err != nil {
		t.Fatal(err)
	}
	c := obs.only(t)
	if c.Tool != "mock:run" || c.Decision != tollgate.Allow || c.Outcome != tollgate.OutcomeExecuted || c.Reason != "" || c.Stage != "" {
		t.Errorf("executed call observed as %+v", c)
	}
	// Stages without a check configured (breaker, rate limit) are reached
	// and take next to nothing; the kill switch stage exists only with
	// switches.
	want := []tollgate.Stage{tollgate.StageIdentity, tollgate.StageBreaker, tollgate.StageRateLimit, tollgate.StagePolicy, tollgate.StageNetwork, tollgate.StageSchema, tollgate.StageAudit, tollgate.StageExecute}
	if got := reached(c); !equalStages(got, want) {
		t.Errorf("stages %v, want %v", got, want)
	}
	if _, ok := c.Stages.Get(tollgate.StageKillSwitch); ok {
		t.Error("kill switch stage timed without kill switches")
	}

	// A name the manifest does not know is never a label value of its own.
	if _, err := tw.ExecuteCall(ctx, Call{Credentials: claimed, Request: req("made:up-12345")}, ok); err != nil {
		t.Fatal(err)
	}
	if c = obs.only(t); c.Tool != UnknownTool || c.Outcome != tollgate.OutcomeExecuted {
		t.Errorf("unknown tool observed as %+v", c)
	}

	failing := errors.New("boom")
	if _, err := tw.ExecuteCall(ctx, Call{Credentials: claimed, Request: req("mock:run")}, func(context.Context) (any, error) { return nil, failing }); !errors.Is(err, failing) {
		t.Fatal(err)
	}
	if c = obs.only(t); c.Outcome != tollgate.OutcomeFailed || c.Reason != "" {
		t.Errorf("failed call observed as %+v", c)
	}

	tw.Refuse(ctx, Call{Credentials: claimed, Request: req("mock:run")}, &tollgate.Error{Reason: tollgate.ReasonParamsInvalid})
	if c = obs.only(t); c.Reason != tollgate.ReasonParamsInvalid || c.Stage != tollgate.StageFrontDoor || c.Tool != "mock:run" {
		t.Errorf("front door refusal observed as %+v", c)
	}

	// The authorized record cannot be written: refused at stage audit,
	// observed once, the tool never ran.
	rec.fail = func(e *audit.Event) error { return errors.New("disk full") }
	_, err := tw.ExecuteCall(ctx, Call{Credentials: claimed, Request: req("mock:run")}, ok)
	wantRefusal(t, err, tollgate.ReasonInternal)
	if c = obs.only(t); c.Stage != tollgate.StageAudit || c.Reason != tollgate.ReasonInternal {
		t.Errorf("audit failure observed as %+v", c)
	}
	if _, ran := c.Stages.Get(tollgate.StageExecute); ran {
		t.Error("execute timed for a call that never ran")
	}

	// Decide is a dry run: nothing to observe.
	rec.fail = nil
	tw.Decide(ctx, Call{Credentials: claimed, Request: req("mock:run")})
	if obs.calls != nil {
		t.Errorf("Decide observed: %+v", obs.calls)
	}
}

func equalStages(a, b []tollgate.Stage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var claimed = identity.Credentials{Claimed: agent}

type nopObserver struct{}

func (nopObserver) CallDone(CallInfo) {}

// BenchmarkPipelineObserver is BenchmarkPipelineDiscard with an observer
// that does nothing and every call timed: the cost of the stage clock.
func BenchmarkPipelineObserver(b *testing.B) {
	tw, call := pipelineCall(b, audit.Discard)
	WithObserver(nopObserver{})(tw)
	WithStageSampling(1)(tw)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStageSampling: every call is observed, about one in every is timed.
func TestStageSampling(t *testing.T) {
	obs := &observed{}
	tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithObserver(obs), WithStageSampling(2))
	const n = 2000
	for range n {
		if _, err := tw.ExecuteCall(context.Background(), Call{Credentials: claimed, Request: req("mock:run")}, ok); err != nil {
			t.Fatal(err)
		}
	}
	if len(obs.calls) != n {
		t.Fatalf("observed %d calls, want %d", len(obs.calls), n)
	}
	timed := 0
	for _, c := range obs.calls {
		if len(reached(c)) > 0 {
			timed++
		}
	}
	if timed < n*4/10 || timed > n*6/10 { // 9 standard deviations from n/2
		t.Errorf("%d of %d calls timed, want about half", timed, n)
	}
}
