package audit_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

func ExampleOpenFile() {
	dir, err := os.MkdirTemp("", "audit")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")

	sink, err := audit.OpenFile(path, audit.WithDurability(audit.DurabilitySync))
	if err != nil {
		log.Fatal(err)
	}
	err = sink.Emit(context.Background(), &audit.Event{
		Timestamp:     time.Date(2026, 2, 5, 3, 31, 26, 550942000, time.UTC),
		CorrelationID: "c-1",
		Agent:         tollgate.Agent{ID: "bot", Version: "1", Owner: "ops"},
		Intent:        tollgate.Intent{Action: "demo", Reason: "example"},
		ToolRequest: tollgate.ToolRequest{Tool: "mcp", Action: "read_file", ResourceType: "file", Effect: tollgate.EffectRead,
			Params: tollgate.Params{{Key: "path", Value: "a.txt"}, {Key: "api_key", Value: "k"}}},
		Decision: tollgate.Decision{Type: tollgate.Allow, Reason: "Rule matched"},
		Outcome:  tollgate.OutcomeExecuted,
	})
	if err != nil {
		log.Fatal(err) // no audit record: the call must be refused
	}
	if err := sink.Close(); err != nil {
		log.Fatal(err)
	}

	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	n, err := audit.VerifyFile(path)
	fmt.Println(n, err)
	// Output:
	// {"schema_version": "1.0", "timestamp": "2026-02-05T03:31:26.550942+00:00", "correlation_id": "c-1", "request_hash": "", "agent": {"agent_id": "bot", "version": "1", "owner": "ops", "metadata": {}, "delegated_by": []}, "intent": {"action": "demo", "reason": "example", "confidence": null, "metadata": {}}, "tool_request": {"tool": "mcp", "action": "read_file", "resource_type": "file", "effect": "read", "params": {"path": "a.txt", "api_key": "[REDACTED]"}, "metadata": {}, "manifest_version": null}, "decision": {"decision": "ALLOW", "reason": "Rule matched", "policy_id": null, "policy_version": null, "metadata": {}}, "outcome": "executed", "approval_id": null, "grant_id": null, "result_summary": null, "policy_version": null, "manifest_version": null, "seq": 1, "prev_hash": "0000000000000000000000000000000000000000000000000000000000000000", "hash": "b555cb1fc84227ebb52d762cb95cc27ff84077af75a17134f132ecfb020b094b"}
	// 1 <nil>
}

func ExampleRedactor() {
	params := tollgate.Params{
		{Key: "url", Value: "https://api.example.com"},
		{Key: "headers", Value: tollgate.Params{{Key: "X-Api-Key", Value: "k"}, {Key: "Accept", Value: "*/*"}}},
		{Key: "keyboard", Value: "qwerty"},
	}
	fmt.Println(audit.DefaultRedactor.Params(params))
	fmt.Println(audit.NewRedactor("=url").Params(params))
	// Output:
	// [{url https://api.example.com} {headers [{X-Api-Key [REDACTED]} {Accept */*}]} {keyboard qwerty}]
	// [{url [REDACTED]} {headers [{X-Api-Key k} {Accept */*}]} {keyboard qwerty}]
}

func ExampleRedactor_Text() {
	fmt.Println(audit.DefaultRedactor.Text("migrate postgres://admin:S3cretPw@db/prod with Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"))
	fmt.Println(audit.DefaultRedactor.Text("close ticket T-1234 for alice"))
	// Output:
	// migrate postgres://admin:[REDACTED]@db/prod with Bearer [REDACTED]
	// close ticket T-1234 for alice
}

func ExampleComposite() {
	file := audit.SinkFunc(func(_ context.Context, e *audit.Event) error {
		return fmt.Errorf("disk full")
	})
	alerts := audit.SinkFunc(func(_ context.Context, e *audit.Event) error {
		fmt.Println("alert:", e.Outcome)
		return nil
	})
	sink, _ := audit.Composite(file, alerts)
	err := sink.Emit(context.Background(), &audit.Event{Outcome: tollgate.OutcomeBlocked})
	fmt.Println(err)
	// Output:
	// alert: blocked
	// audit: sink 0: disk full
}
