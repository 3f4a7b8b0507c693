package anomaly

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// BenchmarkEmit is the steady state: 1000 agent:tool series, events a few
// milliseconds apart (the target is ≤ 1 µs per event).
func BenchmarkEmit(b *testing.B) {
	r := newRecorder(b)
	events := make([]audit.Event, 1000)
	for i := range events {
		events[i] = audit.Event{Agent: tollgate.Agent{ID: "agent-" + strconv.Itoa(i%100)},
			ToolRequest: tollgate.ToolRequest{Tool: "tool-" + strconv.Itoa(i%37)}, Outcome: tollgate.OutcomeExecuted}
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := &events[i%len(events)]
		e.Timestamp = t0.Add(time.Duration(i) * 3 * time.Millisecond)
		_ = r.Emit(ctx, e)
		i++
	}
}

// BenchmarkEmitNewSeries is the LRU's worst case: every event a series
// (and agent) never seen, evicting the least recently seen.
func BenchmarkEmitNewSeries(b *testing.B) {
	r := newRecorder(b)
	ctx := context.Background()
	e := &audit.Event{ToolRequest: tollgate.ToolRequest{Tool: "read"}, Outcome: tollgate.OutcomeExecuted}
	names := make([]string, 1<<16)
	for i := range names {
		names[i] = "agent-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Agent.ID = names[i%len(names)]
		e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		_ = r.Emit(ctx, e)
		i++
	}
}

// BenchmarkEmitUnusualTool is an alert on every event: each a new tool for
// an agent that has others (message, log, hook).
func BenchmarkEmitUnusualTool(b *testing.B) {
	d, err := New(WithLogger(discard), WithHook(func(Alert) {}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	e := &audit.Event{Outcome: tollgate.OutcomeExecuted}
	names := make([]string, 1<<16)
	for i := range names {
		names[i] = "tool-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Agent.ID = names[(i/8)%len(names)]
		e.ToolRequest.Tool = names[i%len(names)]
		e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		_ = d.Emit(ctx, e)
		i++
	}
}
