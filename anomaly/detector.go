package anomaly

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/webhook"
)

// Detector watches audit events for Tollgate's four anomalies. It is an
// audit.Sink; create it with New. It is safe for concurrent use.
type Detector struct {
	cfg     config
	buckets int64 // window / interval
	sender  *webhook.Sender

	mu     sync.Mutex
	series map[string]*series // by agent "\x00" tool
	agents map[string]*agent
	lru    series  // sentinel of the list of series, most recent first
	key    []byte  // scratch for the series key, under mu
	fired  []Alert // scratch for one event's alerts, under mu
}

type agent struct {
	id             string
	tools          map[string]*series
	errors, denies counter
}

type series struct {
	key        string
	tool       string
	agent      *agent
	calls      counter
	prev, next *series
}

var _ audit.Sink = (*Detector)(nil)

// New returns a Detector, or an error naming the first bad option.
func New(opts ...Option) (*Detector, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.cooldownSet {
		cfg.cooldown = cfg.window
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Detector{
		cfg: cfg, buckets: int64(cfg.window / cfg.interval),
		series: make(map[string]*series), agents: make(map[string]*agent),
	}
	d.lru.prev, d.lru.next = &d.lru, &d.lru
	if cfg.webhookURL != "" {
		s, err := webhook.New(cfg.webhookURL, webhook.WithSecret(cfg.webhookSecret))
		if err != nil {
			return nil, err
		}
		d.sender = s
	}
	return d, nil
}

// Emit counts the call e records, at e's own timestamp (the clock's time
// when it has none), so a replayed log is judged by when its calls
// happened. Records that describe no call (those with a Kind) and
// "authorized" records (the outcome record that follows counts the call)
// are ignored. Emit never fails: an anomaly is reported, not refused.
func (d *Detector) Emit(_ context.Context, e *audit.Event) error {
	if e.Kind != "" || e.Outcome == tollgate.OutcomeAuthorized {
		return nil
	}
	ts := e.Timestamp
	if ts.IsZero() {
		ts = d.cfg.now()
	}
	d.mu.Lock()
	d.observe(e, ts)
	if len(d.fired) == 0 {
		d.mu.Unlock()
		return nil
	}
	fired := slices.Clone(d.fired)
	d.fired = d.fired[:0]
	d.mu.Unlock()
	for _, a := range fired {
		d.report(a)
	}
	return nil
}

// observe updates the series of e and queues its alerts in d.fired.
func (d *Detector) observe(e *audit.Event, ts time.Time) {
	agentID, tool := e.Agent.ID, e.ToolRequest.Tool
	d.key = append(append(append(d.key[:0], agentID...), 0), tool...)
	s := d.series[string(d.key)]
	idx := floorDiv(ts.UnixNano(), int64(d.cfg.interval))
	if s == nil {
		s = d.add(agentID, tool)
		if len(s.agent.tools) > 1 {
			d.unusual(s, ts)
		}
	} else {
		d.unlink(s)
	}
	d.pushFront(s)

	a := s.agent
	s.calls.observe(idx, 1)
	a.errors.observe(idx, b2u(e.Outcome == tollgate.OutcomeFailed))
	a.denies.observe(idx, b2u(e.Outcome == tollgate.OutcomeBlocked || e.Outcome == tollgate.OutcomeApprovalDenied))
	d.check(RateSpike, &s.calls, agentID, tool, ts)
	d.check(ErrorBurst, &a.errors, agentID, "", ts)
	d.check(DenySurge, &a.denies, agentID, "", ts)
}

// check queues an alert when c's window is more than z standard deviations
// above its baseline and c's cooldown has passed.
func (d *Detector) check(t Type, c *counter, agentID, tool string, ts time.Time) {
	z, ok := c.zScore(d.cfg.minSamples)
	if !ok || !(z > d.cfg.z) {
		return
	}
	now := ts.UnixNano()
	if c.alerted && now-c.lastAlert < int64(d.cfg.cooldown) {
		return
	}
	c.alerted, c.lastAlert = true, now
	secs := d.cfg.window.Seconds()
	cur, base := float64(c.total)/secs, c.mean/secs
	d.fired = append(d.fired, Alert{
		Type: t, AgentID: agentID, Tool: tool, Severity: severity(t, z, d.cfg.z),
		Message: rateMessage(t, agentID, tool, cur, base, z),
		ZScore:  z, CurrentRate: cur, BaselineRate: base, Timestamp: ts,
	})
}

// unusual queues the alert for an agent's first call of a tool; an agent's
// very first tool does not alert. Each agent:tool pair alerts once while
// its series is remembered, so it needs no cooldown.
func (d *Detector) unusual(s *series, ts time.Time) {
	known := make([]string, 0, len(s.agent.tools)-1)
	for name := range s.agent.tools {
		if name != s.tool {
			known = append(known, name)
		}
	}
	slices.Sort(known)
	var b strings.Builder
	b.WriteString("Agent '" + s.agent.id + "' called tool '" + s.tool + "' for the first time (known tools: [")
	const listed = 20 // the message stays short for an agent with many tools
	for i, name := range known[:min(len(known), listed)] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pycompat.Repr(name))
	}
	if len(known) > listed {
		b.WriteString(", … " + strconv.Itoa(len(known)-listed) + " more")
	}
	b.WriteString("])")
	d.fired = append(d.fired, Alert{
		Type: UnusualTool, AgentID: s.agent.id, Tool: s.tool, Severity: Medium,
		Message: b.String(), Timestamp: ts,
	})
}

// add creates the series of agentID:tool (and its agent), forgetting the
// least recently seen series when there are too many. A forgotten series
// (and its agent, when it was the agent's last) is reused, so that a stream
// of new names costs no garbage.
func (d *Detector) add(agentID, tool string) *series {
	var s *series
	var spare *agent
	if len(d.series) >= d.cfg.maxSeries {
		s, spare = d.evict(d.lru.prev)
	}
	a := d.agents[agentID]
	if a == nil {
		if a = spare; a == nil {
			w := int(d.buckets)
			a = &agent{tools: make(map[string]*series), errors: newCounter(w), denies: newCounter(w)}
		}
		a.id = agentID
		d.agents[agentID] = a
	}
	if s == nil {
		s = &series{calls: newCounter(int(d.buckets))}
	}
	s.key, s.tool, s.agent = string(d.key), tool, a
	d.series[s.key] = s
	a.tools[tool] = s
	return s
}

// evict forgets s, and its agent when s was the agent's last series, and
// returns them cleared for reuse (the agent nil when it is kept).
func (d *Detector) evict(s *series) (*series, *agent) {
	d.unlink(s)
	delete(d.series, s.key)
	a := s.agent
	delete(a.tools, s.tool)
	*s = series{calls: s.calls}
	s.calls.reset()
	if len(a.tools) > 0 {
		return s, nil
	}
	delete(d.agents, a.id)
	a.errors.reset()
	a.denies.reset()
	return s, a
}

func (d *Detector) unlink(s *series) { s.prev.next, s.next.prev = s.next, s.prev }

func (d *Detector) pushFront(s *series) {
	s.prev, s.next = &d.lru, d.lru.next
	d.lru.next.prev = s
	d.lru.next = s
}

// report sends one alert to the log, the hooks and the webhook.
func (d *Detector) report(a Alert) {
	if l := d.cfg.logger; l.Enabled(context.Background(), slog.LevelWarn) {
		l.LogAttrs(context.Background(), slog.LevelWarn, "Anomaly detected: "+a.Message,
			slog.String("alert_type", string(a.Type)), slog.String("agent_id", a.AgentID),
			slog.String("tool", a.Tool), slog.String("severity", string(a.Severity)),
			slog.Float64("z_score", a.ZScore), slog.Time("event_time", a.Timestamp))
	}
	for _, h := range d.cfg.hooks {
		h(a)
	}
	if d.sender != nil {
		body, err := json.Marshal(a)
		if err == nil {
			err = d.sender.Send(body)
		}
		if err != nil {
			d.cfg.logger.Error("anomaly: webhook", slog.String("alert_type", string(a.Type)), slog.Any("error", err))
		}
	}
}

// Series returns how many agent:tool series are tracked.
func (d *Detector) Series() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.series)
}

// Close drains the webhook queue (see WithWebhook); without a webhook it
// does nothing. Emit must not be called after Close.
func (d *Detector) Close(ctx context.Context) error {
	if d.sender == nil {
		return nil
	}
	return d.sender.Close(ctx)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// floorDiv divides rounding down, so times before 1970 still fall in the
// right bucket.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
