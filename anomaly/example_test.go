package anomaly_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/anomaly"
	"github.com/tollgate-go/tollgate/audit"
)

func Example() {
	d, err := anomaly.New(
		anomaly.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		anomaly.WithHook(func(a anomaly.Alert) { fmt.Println(a.Type, a.Severity, a.Message) }),
	)
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 2, 5, 3, 0, 0, 0, time.UTC)
	emit := func(tool string, at time.Time) {
		_ = d.Emit(context.Background(), &audit.Event{
			Timestamp: at, Agent: tollgate.Agent{ID: "support-bot"},
			ToolRequest: tollgate.ToolRequest{Tool: tool}, Outcome: tollgate.OutcomeExecuted,
		})
	}
	// Twenty quiet minutes: two or four calls a minute.
	for m := range 20 {
		for i := range 2 + 2*(m%2) {
			emit("tickets.list", start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second))
		}
	}
	// Then sixty calls in one minute, and a tool the agent never used.
	for i := range 60 {
		emit("tickets.list", start.Add(20*time.Minute+time.Duration(i)*time.Second))
	}
	emit("tickets.delete", start.Add(21*time.Minute))
	// Output:
	// rate_spike medium Rate spike for support-bot/tickets.list: 0.08/s (baseline: 0.04/s, z-score: 3.1)
	// unusual_tool medium Agent 'support-bot' called tool 'tickets.delete' for the first time (known tools: ['tickets.list'])
}
