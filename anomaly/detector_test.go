package anomaly

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

var t0 = time.Date(2026, 2, 5, 3, 0, 0, 0, time.UTC)

var discard = slog.New(slog.DiscardHandler)

// recorder is a Detector whose alerts are collected.
type recorder struct {
	*Detector
	mu     sync.Mutex
	alerts []Alert
}

func newRecorder(t testing.TB, opts ...Option) *recorder {
	t.Helper()
	r := &recorder{}
	opts = append([]Option{
		WithLogger(discard),
		WithHook(func(a Alert) { r.mu.Lock(); r.alerts = append(r.alerts, a); r.mu.Unlock() }),
	}, opts...)
	d, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	r.Detector = d
	return r
}

func (r *recorder) emit(t testing.TB, agent, tool string, outcome tollgate.Outcome, at time.Time) {
	t.Helper()
	e := &audit.Event{Timestamp: at, Agent: tollgate.Agent{ID: agent},
		ToolRequest: tollgate.ToolRequest{Tool: tool}, Outcome: outcome}
	if err := r.Emit(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

// types lists the alerts' types, agents and tools, in order.
func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.alerts {
		out = append(out, string(a.Type)+" "+a.AgentID+"/"+a.Tool)
	}
	return out
}

// baseline emits 30 quiet minutes for agent on tool: 2 or 4 calls a minute.
func (r *recorder) baseline(t testing.TB, agent, tool string, start time.Time) time.Time {
	for m := range 30 {
		for i := range 2 + 2*(m%2) {
			r.emit(t, agent, tool, tollgate.OutcomeExecuted, start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second))
		}
	}
	return start.Add(30 * time.Minute)
}

// burst emits n calls with outcome within one minute from at.
func (r *recorder) burst(t testing.TB, agent, tool string, outcome tollgate.Outcome, n int, at time.Time) {
	for i := range n {
		r.emit(t, agent, tool, outcome, at.Add(time.Duration(i)*time.Second))
	}
}

func equal(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestKnownAnomaliesGiveExactlyTheirAlerts(t *testing.T) {
	cases := map[string]struct {
		outcome tollgate.Outcome
		tool    string
		n       int
		want    []string
	}{
		"quiet":          {tollgate.OutcomeExecuted, "read", 3, nil},
		"rate spike":     {tollgate.OutcomeExecuted, "read", 40, []string{"rate_spike bot/read"}},
		"error burst":    {tollgate.OutcomeFailed, "read", 5, []string{"error_burst bot/"}},
		"deny surge":     {tollgate.OutcomeBlocked, "read", 5, []string{"deny_surge bot/"}},
		"approval deny":  {tollgate.OutcomeApprovalDenied, "read", 5, []string{"deny_surge bot/"}},
		"timeout is not": {tollgate.OutcomeTimeout, "read", 5, nil},
		"new tool":       {tollgate.OutcomeExecuted, "delete", 1, []string{"unusual_tool bot/delete"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRecorder(t)
			at := r.baseline(t, "bot", "read", t0)
			equal(t, r.types())
			r.burst(t, "bot", c.tool, c.outcome, c.n, at)
			equal(t, r.types(), c.want...)
		})
	}
}

func TestAlertFieldsAreTollgates(t *testing.T) {
	r := newRecorder(t)
	at := r.baseline(t, "bot", "read", t0)
	r.burst(t, "bot", "read", tollgate.OutcomeBlocked, 40, at)
	r.emit(t, "bot", "write", tollgate.OutcomeExecuted, at.Add(time.Minute))
	// Four denials already stand out from a baseline without any.
	equal(t, r.types(), "deny_surge bot/", "rate_spike bot/read", "unusual_tool bot/write")
	for _, a := range r.alerts {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"alert_type", "agent_id", "tool", "severity", "message", "z_score", "current_rate", "baseline_rate", "timestamp"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q in %s", a.Type, k, b)
			}
		}
		if len(m) != 9 {
			t.Errorf("%s: %d keys, want 9: %s", a.Type, len(m), b)
		}
		switch a.Type {
		case DenySurge:
			if m["tool"] != nil || !strings.HasPrefix(a.Message, "Deny surge for bot: ") || a.Severity != Critical && a.Severity != High {
				t.Errorf("deny surge: %s", b)
			}
			if a.Severity != severity(DenySurge, a.ZScore, 3) {
				t.Errorf("severity %s for z %v", a.Severity, a.ZScore)
			}
		case UnusualTool:
			if m["z_score"] != nil || a.Message != "Agent 'bot' called tool 'write' for the first time (known tools: ['read'])" {
				t.Errorf("unusual tool: %s", b)
			}
		case RateSpike:
			if m["tool"] != "read" || !(a.ZScore > 3) || a.CurrentRate <= a.BaselineRate || m["timestamp"] == "" {
				t.Errorf("rate spike: %s", b)
			}
		}
	}
}

func TestSeverityAndMessageFollowTollgate(t *testing.T) {
	for _, c := range []struct {
		t    Type
		z    float64
		want Severity
	}{{RateSpike, 3.5, Medium}, {RateSpike, 6.5, High}, {ErrorBurst, 6, Medium}, {DenySurge, 4, High}, {DenySurge, 7, Critical}} {
		if got := severity(c.t, c.z, 3); got != c.want {
			t.Errorf("severity(%s, %v) = %s, want %s", c.t, c.z, got, c.want)
		}
	}
	if got, want := rateMessage(RateSpike, "a", "t", 0.125, 0.05, 3.25), "Rate spike for a/t: 0.12/s (baseline: 0.05/s, z-score: 3.2)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCooldownPerAlertKey(t *testing.T) {
	sustain := func(r *recorder) {
		at := r.baseline(t, "bot", "read", t0)
		r.baseline(t, "other", "read", t0)
		// Ten minutes at 40 calls a minute, for both agents.
		for m := range 10 {
			r.burst(t, "bot", "read", tollgate.OutcomeExecuted, 40, at.Add(time.Duration(m)*time.Minute))
			r.burst(t, "other", "read", tollgate.OutcomeExecuted, 40, at.Add(time.Duration(m)*time.Minute))
		}
	}
	r := newRecorder(t)
	sustain(r)
	// The baseline catches up as the high rate goes on, so the second
	// alert, five minutes (one cooldown) after the first, is the last.
	equal(t, r.types(), "rate_spike bot/read", "rate_spike other/read", "rate_spike bot/read", "rate_spike other/read")
	if gap := r.alerts[2].Timestamp.Sub(r.alerts[0].Timestamp); gap < 5*time.Minute {
		t.Errorf("second alert %v after the first, want at least the 5m cooldown", gap)
	}

	storm := newRecorder(t, WithCooldown(0))
	sustain(storm)
	if n := len(storm.alerts); n < 100 {
		t.Errorf("no cooldown: %d alerts, want one per high event as in Tollgate", n)
	}
}

func TestEventTimeNotWallClock(t *testing.T) {
	// A log from 2020 replayed with the clock stuck in 2026: Tollgate sees
	// every event at one instant and cannot alert; the detector must give
	// the same alerts as live.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	stuck := func() time.Time { return t0 }
	live, replay := newRecorder(t), newRecorder(t, WithClock(stuck))
	for _, r := range []*recorder{live, replay} {
		at := r.baseline(t, "bot", "read", old)
		r.burst(t, "bot", "read", tollgate.OutcomeFailed, 40, at)
	}
	equal(t, replay.types(), "error_burst bot/", "rate_spike bot/read")
	equal(t, replay.types(), live.types()...)
	for i, a := range replay.alerts {
		if a.Timestamp.Year() != 2020 || !a.Timestamp.Equal(live.alerts[i].Timestamp) {
			t.Errorf("alert %d at %v, want the event's time in 2020", i, a.Timestamp)
		}
	}
}

func TestEventWithoutTimestampUsesClock(t *testing.T) {
	now := t0
	r := newRecorder(t, WithClock(func() time.Time { return now }))
	r.baseline(t, "bot", "read", t0)
	now = t0.Add(30 * time.Minute)
	for range 40 {
		r.emit(t, "bot", "read", tollgate.OutcomeExecuted, time.Time{})
	}
	equal(t, r.types(), "rate_spike bot/read")
	if !r.alerts[0].Timestamp.Equal(now) {
		t.Errorf("alert at %v, want the clock's %v", r.alerts[0].Timestamp, now)
	}
}

func TestSkipsRecordsThatAreNotOutcomes(t *testing.T) {
	r := newRecorder(t)
	at := r.baseline(t, "bot", "read", t0)
	r.burst(t, "bot", "read", tollgate.OutcomeAuthorized, 40, at)
	for i := range 40 {
		e := &audit.Event{Kind: "config_loaded", Timestamp: at.Add(time.Duration(i) * time.Second)}
		if err := r.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, r.types())
	if r.Series() != 1 {
		t.Errorf("%d series, want 1", r.Series())
	}
}

func TestCounterSamplesEveryClosedInterval(t *testing.T) {
	c := newCounter(3) // a window of three intervals
	c.observe(0, 2)
	c.observe(1, 1)
	c.observe(4, 1) // closes 1, 2 and 3 without events in 2 and 3
	// Samples are the window's count as each interval closed: {0}, {0,1},
	// {0,1,2}, {1,2,3}.
	if got := c.samples[:c.n]; !slices.Equal(got, []uint32{2, 3, 3, 1}) || c.total != 1 {
		t.Fatalf("samples %v, window %d; want [2 3 3 1], 1", got, c.total)
	}
	if c.mean != 2.25 {
		t.Errorf("mean %v, want 2.25", c.mean)
	}
	// An idle series catches up with zero samples (at most 100 kept), so
	// its baseline is not frozen at the rate it had before it went quiet.
	c.observe(1000, 0)
	if c.n != maxSamples || c.mean != 0 || c.total != 0 {
		t.Errorf("after idling: %d samples, mean %v, window %d; want 100, 0, 0", c.n, c.mean, c.total)
	}
}

func TestOutOfOrderEvents(t *testing.T) {
	r := newRecorder(t)
	at := r.baseline(t, "bot", "read", t0)
	// Late events within the window count; those older than it are dropped.
	r.burst(t, "bot", "read", tollgate.OutcomeExecuted, 40, at.Add(-3*time.Minute))
	equal(t, r.types(), "rate_spike bot/read")
	r2 := newRecorder(t)
	at = r2.baseline(t, "bot", "read", t0)
	r2.emit(t, "bot", "read", tollgate.OutcomeExecuted, at)
	r2.burst(t, "bot", "read", tollgate.OutcomeExecuted, 40, at.Add(-time.Hour))
	equal(t, r2.types())
}

func TestBoundedMemoryWithMillionSeries(t *testing.T) {
	const n = 1_000_000
	r := newRecorder(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := &audit.Event{Outcome: tollgate.OutcomeExecuted}
	for i := range n {
		e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		e.Agent.ID = "agent-" + strconv.Itoa(i%(n/2))
		e.ToolRequest.Tool = "tool-" + strconv.Itoa(i)
		if err := r.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := r.Series(); got != 10_000 {
		t.Errorf("%d series tracked, want the 10000 cap", got)
	}
	r.mu.Lock()
	agents := len(r.agents)
	r.mu.Unlock()
	if agents > 10_000 {
		t.Errorf("%d agents tracked, want at most 10000", agents)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if grown > 64<<20 {
		t.Errorf("heap grew %d MiB for 1M series, want at most 64", grown>>20)
	}
	t.Logf("heap grew %.1f MiB, %d unusual_tool alerts", float64(grown)/(1<<20), len(r.alerts))
}

func TestEvictionForgetsOldestSeries(t *testing.T) {
	r := newRecorder(t, WithMaxSeries(2))
	r.emit(t, "a", "x", tollgate.OutcomeExecuted, t0)
	r.emit(t, "b", "y", tollgate.OutcomeExecuted, t0)
	r.emit(t, "a", "x", tollgate.OutcomeExecuted, t0) // a:x most recent
	r.emit(t, "c", "z", tollgate.OutcomeExecuted, t0) // evicts b:y
	r.mu.Lock()
	_, a := r.agents["a"]
	_, b := r.agents["b"]
	r.mu.Unlock()
	if r.Series() != 2 || !a || b {
		t.Errorf("series %d, agent a kept %v, agent b kept %v; want 2, true, false", r.Series(), a, b)
	}
	// a:x is known, so no alert; w is new to a (and evicts c:z).
	r.emit(t, "a", "x", tollgate.OutcomeExecuted, t0)
	r.emit(t, "a", "w", tollgate.OutcomeExecuted, t0)
	equal(t, r.types(), "unusual_tool a/w")
}

func TestConcurrentEmit(t *testing.T) {
	r := newRecorder(t, WithMaxSeries(50))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				r.emit(t, "agent-"+strconv.Itoa(g), "tool-"+strconv.Itoa(i%100), tollgate.OutcomeFailed,
					t0.Add(time.Duration(i)*time.Second))
			}
		})
	}
	wg.Wait()
	if r.Series() != 50 {
		t.Errorf("%d series, want 50", r.Series())
	}
}

func TestLogAndWebhook(t *testing.T) {
	secret := []byte("s3cret")
	got := make(chan []byte, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := audit.VerifySignature(secret, body, req.Header.Get("X-Tollgate-Signature"), time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		got <- body
	}))
	defer srv.Close()
	var logs bytes.Buffer
	d, err := New(WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithWebhook(srv.URL, secret))
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{Detector: d}
	r.emit(t, "bot", "read", tollgate.OutcomeExecuted, t0)
	r.emit(t, "bot", "write", tollgate.OutcomeExecuted, t0)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		var a map[string]any
		if err := json.Unmarshal(body, &a); err != nil || a["alert_type"] != "unusual_tool" || a["tool"] != "write" {
			t.Errorf("webhook body %s (%v)", body, err)
		}
	default:
		t.Fatal("webhook got nothing")
	}
	if !strings.Contains(logs.String(), `level=WARN msg="Anomaly detected: Agent 'bot' called tool 'write' for the first time`) {
		t.Errorf("log: %s", logs.String())
	}
}

func TestBadOptions(t *testing.T) {
	for name, c := range map[string]struct {
		opt  Option
		want string
	}{
		"window equal to interval": {WithWindow(time.Minute), "at least twice"},
		"window not whole":         {WithWindow(150 * time.Second), "whole number"},
		"window too long":          {WithWindow(48 * time.Hour), "more than 1440"},
		"zero interval":            {WithBaselineInterval(0), "must be positive"},
		"zero z":                   {WithZScore(0), "threshold 0 must be positive"},
		"NaN z":                    {WithZScore(nan()), "must be positive"},
		"min samples 1":            {WithMinSamples(1), "between 2 and 100"},
		"min samples 101":          {WithMinSamples(101), "between 2 and 100"},
		"negative cooldown":        {WithCooldown(-1), "must not be negative"},
		"no series":                {WithMaxSeries(0), "at least 1"},
		"nil clock":                {WithClock(nil), "must not be nil"},
		"nil logger":               {WithLogger(nil), "must not be nil"},
		"unsigned webhook":         {WithWebhook("https://example.com/hook", nil), "secret must not be empty"},
		"bad webhook URL":          {WithWebhook("ftp://example.com", []byte("k")), "http"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }
