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

// BenchmarkEmitNewSeries is the worst case: every event a new series,
// evicting the oldest.
func BenchmarkEmitNewSeries(b *testing.B) {
	r := newRecorder(b)
	ctx := context.Background()
	e := &audit.Event{Agent: tollgate.Agent{ID: "agent"}, Outcome: tollgate.OutcomeExecuted}
	names := make([]string, 1<<16)
	for i := range names {
		names[i] = "tool-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Agent.ID = names[(i/7)%len(names)]
		e.ToolRequest.Tool = names[i%len(names)]
		e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		_ = r.Emit(ctx, e)
		i++
	}
}
