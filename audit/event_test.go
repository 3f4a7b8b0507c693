package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
)

func TestAppendJSONGoldenKeyOrder(t *testing.T) {
	conf := 0.75
	e := &Event{
		Timestamp:     time.Date(2026, 2, 5, 4, 31, 26, 550942999, time.FixedZone("CET", 3600)),
		CorrelationID: "c-1",
		RequestHash:   "rh",
		Agent: tollgate.Agent{ID: "worker", Version: "2", Owner: "team ü", DelegatedBy: []string{"orchestrator", "router"},
			Metadata: tollgate.Params{{Key: "role", Value: "ops"}, {Key: "_signature", Value: "deadbeef"}, {Key: "n", Value: json.Number("1e2")}}},
		Intent: tollgate.Intent{Action: "write", Reason: "say \"hi\"\n", Confidence: &conf,
			Metadata: tollgate.Params{{Key: "trace", Value: []any{true, nil, "€"}}}},
		ToolRequest: tollgate.ToolRequest{Tool: "api:write_file", Action: "put", ResourceType: "file", Effect: tollgate.EffectWrite,
			Params:   tollgate.Params{{Key: "path", Value: "/safe/😀.txt"}, {Key: "size", Value: json.Number("5.0")}},
			Metadata: tollgate.Params{{Key: "z", Value: json.Number("1")}, {Key: "a", Value: tollgate.Params{}}}},
		Decision:      tollgate.Decision{Type: tollgate.Deny, Reason: "no", PolicyVersion: "1.0"},
		Outcome:       tollgate.OutcomeBlocked,
		ApprovalID:    "ap-1",
		GrantID:       "g-1",
		PolicyVersion: "1.0",
		Stage:         tollgate.StagePolicy,
		ReasonCode:    tollgate.ReasonPolicyDenied,
	}
	want := `{"schema_version": "1.0", "timestamp": "2026-02-05T03:31:26.550942+00:00", "correlation_id": "c-1", "request_hash": "rh", ` +
		`"agent": {"agent_id": "worker", "version": "2", "owner": "team ü", "metadata": {"role": "ops", "n": 100.0}, "delegated_by": ["orchestrator", "router"]}, ` +
		`"intent": {"action": "write", "reason": "say \"hi\"\n", "confidence": 0.75, "metadata": {"trace": [true, null, "€"]}}, ` +
		`"tool_request": {"tool": "api:write_file", "action": "put", "resource_type": "file", "effect": "write", "params": {"path": "/safe/😀.txt", "size": 5.0}, "metadata": {"z": 1, "a": {}}, "manifest_version": null}, ` +
		`"decision": {"decision": "DENY", "reason": "no", "policy_id": null, "policy_version": "1.0", "metadata": {}}, ` +
		`"outcome": "blocked", "approval_id": "ap-1", "grant_id": "g-1", "result_summary": null, "policy_version": "1.0", "manifest_version": null, ` +
		`"stage": "policy", "reason_code": "POLICY_DENIED"}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(e.AppendJSON(nil), &m); err != nil {
		t.Errorf("not JSON: %v", err)
	}
}

func TestAppendJSONZeroEvent(t *testing.T) {
	got := string((&Event{}).AppendJSON([]byte("prefix:")))
	want := `prefix:{"schema_version": "1.0", "timestamp": "0001-01-01T00:00:00+00:00", "correlation_id": "", "request_hash": "", ` +
		`"agent": {"agent_id": "", "version": "", "owner": "", "metadata": {}, "delegated_by": []}, ` +
		`"intent": {"action": "", "reason": "", "confidence": null, "metadata": {}}, ` +
		`"tool_request": {"tool": "", "action": "", "resource_type": "", "effect": "", "params": {}, "metadata": {}, "manifest_version": null}, ` +
		`"decision": {"decision": "", "reason": "", "policy_id": null, "policy_version": null, "metadata": {}}, ` +
		`"outcome": "", "approval_id": null, "grant_id": null, "result_summary": null, "policy_version": null, "manifest_version": null}`
	if got != want {
		t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
	}
}

func TestAppendJSONSchemaVersionFirst(t *testing.T) {
	e := testEvent(1)
	e.SchemaVersion = "1.1"
	if got := string(e.AppendJSON(nil)); !strings.HasPrefix(got, `{"schema_version": "1.1", "timestamp": `) {
		t.Errorf("line starts %.40s", got)
	}
}

func TestTimestampIsPythonIsoformat(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-01-01T00:00:00+00:00"},
		{time.Date(2026, 1, 1, 0, 0, 0, 999, time.UTC), "2026-01-01T00:00:00+00:00"}, // sub-microsecond is dropped
		{time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC), "2026-01-01T00:00:00.000001+00:00"},
		{time.Date(2026, 1, 1, 0, 0, 0, 120000000, time.UTC), "2026-01-01T00:00:00.120000+00:00"},
		{time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("", 3600)), "2026-01-01T00:00:00+00:00"},
		{time.Date(999, 12, 31, 23, 59, 59, 999999999, time.UTC), "0999-12-31T23:59:59.999999+00:00"},
	} {
		if got := string(appendTimestamp(nil, c.t)); got != c.want {
			t.Errorf("appendTimestamp(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

func TestAppendJSONNeverWritesSignature(t *testing.T) {
	e := testEvent(1)
	e.Agent.Metadata = tollgate.Params{{Key: "_signature", Value: "abc"}}
	got := string(e.AppendJSON(nil))
	if strings.Contains(got, "_signature") || strings.Contains(got, "abc") {
		t.Errorf("signature written: %s", got)
	}
	if !strings.Contains(got, `"metadata": {}, "delegated_by": []`) {
		t.Errorf("agent metadata not empty: %s", got)
	}
	if _, ok := e.Agent.Metadata.Get("_signature"); !ok {
		t.Error("caller's agent metadata changed")
	}
}
