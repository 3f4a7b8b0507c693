package audit_test

import (
	"context"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

func ExampleNewSlogSink() {
	// Drop the time so the output is stable; a real handler keeps it (the
	// event's timestamp).
	dropTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	decisions, err := audit.NewSlogSink(logger, audit.WithLevel(slog.LevelInfo))
	if err != nil {
		log.Fatal(err)
	}
	// In production: audit.Composite(fileSink, decisions), the file being
	// the record of truth.
	err = decisions.Emit(context.Background(), &audit.Event{
		Timestamp:     time.Date(2026, 2, 5, 3, 31, 26, 0, time.UTC),
		CorrelationID: "c-1",
		Agent:         tollgate.Agent{ID: "bot", Version: "1", Owner: "ops"},
		Intent:        tollgate.Intent{Action: "cleanup", Reason: "user asked; password=hunter2hunter2"},
		ToolRequest: tollgate.ToolRequest{Tool: "fs", Action: "delete_file", ResourceType: "file", Effect: tollgate.EffectDelete,
			Params: tollgate.Params{{Key: "path", Value: "/etc/passwd"}}},
		Decision:   tollgate.Decision{Type: tollgate.Deny, Reason: "Rule matched", PolicyID: "no_delete"},
		Outcome:    tollgate.OutcomeBlocked,
		Stage:      tollgate.StagePolicy,
		ReasonCode: tollgate.ReasonPolicyDenied,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"level":"INFO","msg":"tollgate decision","correlation_id":"c-1","request_hash":"","agent":{"agent_id":"bot","version":"1","owner":"ops"},"intent":{"action":"cleanup","reason":"user asked; password=[REDACTED]"},"tool":"fs","action":"delete_file","effect":"delete","resource_type":"file","decision":"DENY","reason":"Rule matched","policy_id":"no_delete","outcome":"blocked","stage":"policy","reason_code":"POLICY_DENIED"}
}
