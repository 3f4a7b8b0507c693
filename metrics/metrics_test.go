package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/ratelimit"
	"github.com/tollgate-go/tollgate/registry"
	"github.com/tollgate-go/tollgate/tower"
)

const testPolicy = `version: "1.0"
rules:
  - id: allow_reads
    effect: read
    decision: ALLOW
  - id: deny_default
    decision: DENY
`

const testManifest = `version: "1.0.0"
tools:
  "tickets:get":
    effect: read
    resource_type: ticket
  "tickets:delete":
    effect: delete
    resource_type: ticket
`

type fixture struct {
	reg   *prometheus.Registry
	m     *Metrics
	tower *tower.Tower
}

func newFixture(tb testing.TB, sink audit.Sink, mopts []Option, topts ...tower.Option) fixture {
	tb.Helper()
	pol, err := policy.Parse("policy.yaml", []byte(testPolicy))
	if err != nil {
		tb.Fatal(err)
	}
	man, err := registry.Parse("manifest.yaml", []byte(testManifest))
	if err != nil {
		tb.Fatal(err)
	}
	lim, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{{AgentID: "*", Tool: "tickets:get", MaxCalls: 4, Window: time.Hour}})
	if err != nil {
		tb.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg, mopts...)
	if err != nil {
		tb.Fatal(err)
	}
	opts := append([]tower.Option{
		tower.WithObserver(m),
		tower.WithStageSampling(1),
		tower.WithAuditSink(m.Sink(sink)),
		tower.WithLogger(slog.New(slog.DiscardHandler)),
	}, topts...)
	tw, err := tower.New(&tower.Config{Policy: pol, Manifest: man, Limiter: lim}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return fixture{reg: reg, m: m, tower: tw}
}

func (f fixture) call(tool string, exec tower.ExecFunc) error {
	_, err := f.tower.ExecuteCall(context.Background(), tower.Call{
		Credentials: identity.Credentials{Claimed: tollgate.Agent{ID: "agent-1", Version: "1", Owner: "team"}},
		Request:     tollgate.ToolRequest{Tool: tool, Action: "run"},
	}, exec)
	return err
}

func ok(context.Context) (any, error) { return "ok", nil }

func TestCallsCounted(t *testing.T) {
	f := newFixture(t, audit.Discard, nil)
	for range 3 {
		if err := f.call("tickets:get", ok); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.call("tickets:get", func(context.Context) (any, error) { return nil, errors.New("down") }); err == nil {
		t.Fatal("tool failure not returned")
	}
	for range 2 { // over the limit of 4 per hour
		if err := f.call("tickets:get", ok); err == nil {
			t.Fatal("rate limit not applied")
		}
	}
	if err := f.call("tickets:delete", ok); err == nil {
		t.Fatal("delete allowed")
	}
	for i := range 50 { // invented names share one label value
		if err := f.call(fmt.Sprintf("made:up-%d", i), ok); err == nil {
			t.Fatal("unknown tool allowed")
		}
	}

	want := `
# HELP tollgate_calls_total Gated calls by tool (as the manifest knows it, else unknown), decision, outcome and refusal reason (empty for calls that ran).
# TYPE tollgate_calls_total counter
tollgate_calls_total{decision="ALLOW",outcome="executed",reason="",tool="tickets:get"} 3
tollgate_calls_total{decision="ALLOW",outcome="failed",reason="",tool="tickets:get"} 1
tollgate_calls_total{decision="DENY",outcome="blocked",reason="RATE_LIMITED",tool="tickets:get"} 2
tollgate_calls_total{decision="DENY",outcome="blocked",reason="POLICY_DENIED",tool="tickets:delete"} 1
tollgate_calls_total{decision="DENY",outcome="blocked",reason="POLICY_DENIED",tool="unknown"} 50
# HELP tollgate_audit_records_written_total Audit records the sink accepted.
# TYPE tollgate_audit_records_written_total counter
tollgate_audit_records_written_total 61
# HELP tollgate_audit_write_errors_total Audit records the sink failed to write. A failed pre-execution record refuses its call.
# TYPE tollgate_audit_write_errors_total counter
tollgate_audit_write_errors_total 0
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), CallsTotal, AuditRecordsWritten, AuditWriteErrors); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(f.m.calls); n != 5 {
		t.Errorf("%d series of %s, want 5", n, CallsTotal)
	}

	// Every call reached policy except the 2 refused by the rate limiter;
	// only the 4 that ran reached execute; every call's records were timed.
	counts := stageCounts(t, f.reg)
	for stage, want := range map[tollgate.Stage]uint64{
		tollgate.StageIdentity: 57, tollgate.StageRateLimit: 57, tollgate.StagePolicy: 55,
		tollgate.StageExecute: 4, tollgate.StageAudit: 57, tollgate.StageKillSwitch: 0,
	} {
		if counts[string(stage)] != want {
			t.Errorf("stage %s observed %d times, want %d", stage, counts[string(stage)], want)
		}
	}
	if len(counts) != len(tower.TimedStages) {
		t.Errorf("stage label values %v, want one series per timed stage", counts)
	}
}

// stageCounts returns the sample count per stage of the stage histogram,
// checking it is a native histogram.
func stageCounts(t *testing.T, g prometheus.Gatherer) map[string]uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]uint64)
	for _, mf := range mfs {
		if mf.GetName() != StageDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h.GetSchema() == 0 && h.GetZeroThreshold() == 0 {
				t.Errorf("stage histogram is not native: %v", h)
			}
			out[label(m, "stage")] = h.GetSampleCount()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestAuditFailuresCounted(t *testing.T) {
	f := newFixture(t, audit.SinkFunc(func(context.Context, *audit.Event) error { return errors.New("disk full") }), nil)
	if err := f.call("tickets:get", ok); err == nil {
		t.Fatal("ran unrecorded")
	}
	if err := f.call("tickets:delete", ok); err == nil {
		t.Fatal("delete allowed")
	}
	if got := testutil.ToFloat64(f.m.errs); got != 2 {
		t.Errorf("write errors %v, want 2", got)
	}
	if got := testutil.ToFloat64(f.m.records); got != 0 {
		t.Errorf("records written %v, want 0", got)
	}
	if got := testutil.ToFloat64(f.m.calls.WithLabelValues("tickets:get", "ALLOW", "blocked", "INTERNAL")); got != 1 {
		t.Errorf("call refused by the failed write counted %v, want 1", got)
	}
}

func TestGauges(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	kills, err := killswitch.NewMemory(killswitch.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	br, err := breaker.New(breaker.Settings{FailureThreshold: 1, Cooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pending := approvals.NewMemoryStore()
	for _, exp := range []time.Time{now.Add(time.Hour), now.Add(-time.Second)} { // one live, one expired
		if _, err := pending.Create(context.Background(), approvals.Request{ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, audit.Discard,
		[]Option{WithKillSwitches(kills), WithBreakers(br), WithApprovals(pending), WithClock(func() time.Time { return now })},
		tower.WithBreaker(br), tower.WithKillSwitches(kills))

	if err := f.call("tickets:get", func(context.Context) (any, error) { return nil, errors.New("down") }); err == nil {
		t.Fatal("tool failure not returned")
	}
	if _, err := kills.Set(context.Background(), killswitch.Switch{Scope: killswitch.Scope{Kind: killswitch.KindAgent, Value: "agent-2"}, Reason: "test", SetAt: now}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP tollgate_approvals_pending Approval requests waiting for a human and not expired.
# TYPE tollgate_approvals_pending gauge
tollgate_approvals_pending 1
# HELP tollgate_breaker_state Circuit state per tool the manifest knows: 1 for the state it is in (closed, open, half_open), 0 for the others.
# TYPE tollgate_breaker_state gauge
tollgate_breaker_state{state="closed",tool="tickets:get"} 0
tollgate_breaker_state{state="half_open",tool="tickets:get"} 0
tollgate_breaker_state{state="open",tool="tickets:get"} 1
# HELP tollgate_kill_switches Kill switches the pipeline checks calls against (one past its expiry counts until its store drops it).
# TYPE tollgate_kill_switches gauge
tollgate_kill_switches 1
# HELP tollgate_kill_switches_stale 1 while the kill switch source cannot vouch for its switches, so every call is refused.
# TYPE tollgate_kill_switches_stale gauge
tollgate_kill_switches_stale 0
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), ApprovalsPending, BreakerState, KillSwitches, KillSwitchesStale); err != nil {
		t.Error(err)
	}
}

func TestNewNeedsRegisterer(t *testing.T) {
	if _, err := New(nil); !errors.Is(err, ErrNoRegisterer) {
		t.Errorf("New(nil) = %v, want ErrNoRegisterer", err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
}

// BenchmarkPipeline and BenchmarkPipelineMetrics are the same allowed call
// (identity, rate limit, policy, execute, two discarded audit records)
// without and with metrics: the difference is what metrics cost per call.
func BenchmarkPipeline(b *testing.B) {
	f := newFixture(b, audit.Discard, nil)
	pol, man := f.tower.Config().Policy, f.tower.Config().Manifest
	tw, err := tower.New(&tower.Config{Policy: pol, Manifest: man}, tower.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	benchCalls(b, fixture{tower: tw})
}

// BenchmarkPipelineMetrics is the default: stages timed on one call in
// tower.DefaultStageSampling.
func BenchmarkPipelineMetrics(b *testing.B) { benchMetrics(b, tower.DefaultStageSampling) }

// BenchmarkPipelineMetricsEveryCall times every call's stages.
func BenchmarkPipelineMetricsEveryCall(b *testing.B) { benchMetrics(b, 1) }

func benchMetrics(b *testing.B, sampling int) {
	f := newFixture(b, audit.Discard, nil)
	pol, man := f.tower.Config().Policy, f.tower.Config().Manifest
	tw, err := tower.New(&tower.Config{Policy: pol, Manifest: man}, tower.WithLogger(slog.New(slog.DiscardHandler)),
		tower.WithObserver(f.m), tower.WithStageSampling(sampling), tower.WithAuditSink(f.m.Sink(audit.Discard)))
	if err != nil {
		b.Fatal(err)
	}
	benchCalls(b, fixture{tower: tw})
}

func benchCalls(b *testing.B, f fixture) {
	b.ReportAllocs()
	for b.Loop() {
		if err := f.call("tickets:get", ok); err != nil {
			b.Fatal(err)
		}
	}
}

type capture struct{ info tower.CallInfo }

func (c *capture) CallDone(i tower.CallInfo) { c.info = i }

// BenchmarkCallDone is what Metrics adds to a call besides the stage
// clock: one counter and one histogram observation per stage reached.
func BenchmarkCallDone(b *testing.B) {
	f := newFixture(b, audit.Discard, nil)
	c := &capture{}
	tw, err := tower.New(f.tower.Config(), tower.WithObserver(c), tower.WithStageSampling(1), tower.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	if err := (fixture{tower: tw}).call("tickets:get", ok); err != nil {
		b.Fatal(err)
	}
	n := 0
	c.info.Stages.Each(func(int, tollgate.Stage, time.Duration) { n++ })
	b.ReportMetric(float64(n), "stages")
	b.ReportAllocs()
	for b.Loop() {
		f.m.CallDone(c.info)
	}
}
