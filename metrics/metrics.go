package metrics

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/tower"
)

// Metric names. The first two are fixed: dashboards and alert rules depend
// on them.
const (
	CallsTotal          = "tollgate_calls_total"
	StageDuration       = "tollgate_stage_duration_seconds"
	AuditRecordsWritten = "tollgate_audit_records_written_total"
	AuditWriteErrors    = "tollgate_audit_write_errors_total"
	ApprovalsPending    = "tollgate_approvals_pending"
	BreakerState        = "tollgate_breaker_state"
	KillSwitches        = "tollgate_kill_switches"
	KillSwitchesStale   = "tollgate_kill_switches_stale"
)

// Metrics records a Tower's calls on a Prometheus registry. It is a
// tower.Observer (tower.WithObserver) and wraps the audit sink (Sink).
// Create it with New; it is safe for concurrent use.
type Metrics struct {
	calls  *prometheus.CounterVec
	stages [len(tower.TimedStages)]prometheus.Observer

	mu      sync.RWMutex
	byCall  map[callKey]prometheus.Counter // calls' children, resolved once
	known   map[string]struct{}            // tools the manifest knew, for the breaker gauge
	records prometheus.Counter
	errs    prometheus.Counter
}

type callKey struct{ tool, decision, outcome, reason string }

// Option configures Metrics.
type Option func(*config)

type config struct {
	breakers  BreakerStates
	kills     killswitch.Source
	approvals approvals.Store
	now       func() time.Time
	timeout   time.Duration
}

// BreakerStates is what the breaker gauge reads; *breaker.Breakers has it.
type BreakerStates interface {
	State(tool string) string
}

// WithBreakers exports each tool's circuit state as tollgate_breaker_state
// {tool, state}: 1 for the state the circuit is in, 0 for the others. Only
// tools the manifest knew when they were called are listed, so a caller
// inventing names cannot grow the series.
func WithBreakers(b BreakerStates) Option { return func(c *config) { c.breakers = b } }

// WithKillSwitches exports how many kill switches s holds
// (tollgate_kill_switches) and whether s can vouch for them
// (tollgate_kill_switches_stale: 1 while every call is refused because a
// shared store is out of reach). Pass the Source the Tower uses.
func WithKillSwitches(s killswitch.Source) Option { return func(c *config) { c.kills = s } }

// WithApprovals exports how many approval requests in s wait for a human
// and have not expired (tollgate_approvals_pending). Each scrape lists the
// pending requests, bounded by WithScrapeTimeout; a failed list reads NaN.
func WithApprovals(s approvals.Store) Option { return func(c *config) { c.approvals = s } }

// WithScrapeTimeout bounds how long a scrape waits for a store (default 2s).
func WithScrapeTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithClock sets the time pending approvals are judged expired at (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// ErrNoRegisterer is returned by New without a registerer: Metrics never
// registers on prometheus.DefaultRegisterer unless it is passed.
var ErrNoRegisterer = errors.New("metrics: a prometheus.Registerer is required")

// New registers Tollgate's metrics on reg and returns the recorder. Give
// it to the Tower with tower.WithObserver and wrap the Tower's audit sink
// with Sink.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	if reg == nil {
		return nil, ErrNoRegisterer
	}
	cfg := config{now: time.Now, timeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: CallsTotal,
			Help: "Gated calls by tool (as the manifest knows it, else unknown), decision, outcome and refusal reason (empty for calls that ran).",
		}, []string{"tool", "decision", "outcome", "reason"}),
		byCall: make(map[callKey]prometheus.Counter),
		known:  make(map[string]struct{}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: AuditRecordsWritten,
			Help: "Audit records the sink accepted.",
		}),
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: AuditWriteErrors,
			Help: "Audit records the sink failed to write. A failed pre-execution record refuses its call.",
		}),
	}
	stages := latency(StageDuration, "Time a gated call spent in each pipeline stage (audit: writing its records; execute: the tool).", "stage")
	for i, s := range tower.TimedStages {
		m.stages[i] = stages.WithLabelValues(string(s))
	}
	cs := []prometheus.Collector{m.calls, stages, m.records, m.errs}
	cs = append(cs, cfg.gauges(m)...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// latency is a histogram with native buckets, and classic ones from 1 µs
// to 10 s for scrapers without native histograms.
func latency(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                            name,
		Help:                            help,
		Buckets:                         prometheus.ExponentialBucketsRange(1e-6, 10, 15),
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, labels)
}

// CallDone counts the call and observes its stage times (tower.Observer).
func (m *Metrics) CallDone(c tower.CallInfo) {
	m.counter(callKey{c.Tool, string(c.Decision), string(c.Outcome), string(c.Reason)}).Inc()
	c.Stages.Each(func(slot int, _ tollgate.Stage, d time.Duration) {
		m.stages[slot].Observe(d.Seconds())
	})
}

// counter returns k's child, resolving it the first time. Every value in k
// comes from a bounded set (tower.CallInfo), so the map stays small.
func (m *Metrics) counter(k callKey) prometheus.Counter {
	m.mu.RLock()
	c, ok := m.byCall[k]
	m.mu.RUnlock()
	if ok {
		return c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok = m.byCall[k]; !ok {
		c = m.calls.WithLabelValues(k.tool, k.decision, k.outcome, k.reason)
		m.byCall[k] = c
		if k.tool != tower.UnknownTool {
			m.known[k.tool] = struct{}{}
		}
	}
	return c
}

func (m *Metrics) knownTools() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.known))
	for t := range m.known {
		out = append(out, t)
	}
	return out
}
