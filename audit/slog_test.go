package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// slogLines logs events through a JSON handler at handlerLevel and returns
// the decoded lines.
func slogLines(t *testing.T, handlerLevel slog.Level, events []*Event, opts ...SlogOption) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	s, err := NewSlogSink(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: handlerLevel})), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := s.Emit(context.Background(), e); err != nil {
			t.Fatalf("Emit: %v", err)
		}
	}
	return decodeLines(t, &buf)
}

func decodeLines(t *testing.T, r io.Reader) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func keys(m any) []string { return slices.Sorted(maps.Keys(m.(map[string]any))) }

// secretEvent is testEvent with secrets in its params and free text.
func secretEvent() *Event {
	e := testEvent(1)
	e.ToolRequest.Params = append(e.ToolRequest.Params, tollgate.Field{Key: "api_key", Value: "k-123456"})
	e.ToolRequest.Metadata = tollgate.Params{{Key: "trace", Value: "meta-value"}}
	e.Intent.Reason = "fetch with password=hunter2hunter2"
	e.Decision.Reason = "token Bearer abcdefghijklmnopqrstuvwxyz0123"
	e.ResultSummary = "connected to postgres://admin:s3cr3tpw@db/prod"
	return e
}

func TestSlogSinkKeysAndRedaction(t *testing.T) {
	lines := slogLines(t, slog.LevelDebug, []*Event{secretEvent()})
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	m := lines[0]
	want := []string{"action", "agent", "correlation_id", "decision", "effect", "intent", "level", "manifest_version",
		"msg", "outcome", "policy_id", "policy_version", "reason", "request_hash", "resource_type", "result_summary", "time", "tool"}
	if got := keys(m); !slices.Equal(got, want) {
		t.Errorf("keys = %v\nwant   %v", got, want)
	}
	if got, want := keys(m["agent"]), []string{"agent_id", "owner", "version"}; !slices.Equal(got, want) {
		t.Errorf("agent keys = %v, want %v", got, want)
	}
	if got, want := keys(m["intent"]), []string{"action", "reason"}; !slices.Equal(got, want) {
		t.Errorf("intent keys = %v, want %v", got, want)
	}
	checks := map[string]any{
		"msg": SlogMessage, "level": "INFO", "time": "2026-02-05T03:31:26.550943Z",
		"correlation_id": "corr-1", "tool": "mcp", "action": "read_file", "effect": "read", "resource_type": "file",
		"decision": "ALLOW", "policy_id": "allow_read", "policy_version": "45e9d1ad", "outcome": "executed",
		"manifest_version": "1.0.0",
		"reason":           "token Bearer " + Redacted,
		"result_summary":   "connected to postgres://admin:" + Redacted + "@db/prod",
	}
	for k, v := range checks {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if got := m["intent"].(map[string]any)["reason"]; got != "fetch with password="+Redacted {
		t.Errorf("intent.reason = %q", got)
	}
	raw, _ := json.Marshal(m)
	for _, leak := range []string{"params", "metadata", "k-123456", "test.txt", "meta-value", "environment", "hunter2", "s3cr3tpw", "abcdefghij"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("line holds %q: %s", leak, raw)
		}
	}
}

func TestSlogSinkRefusalKeys(t *testing.T) {
	e := testEvent(2)
	e.Agent.DelegatedBy = []string{"parent", "root"}
	e.Outcome, e.ResultSummary = tollgate.OutcomeBlocked, ""
	e.Decision = tollgate.Decision{Type: tollgate.Deny, Reason: "rate limited"}
	e.PolicyVersion, e.ManifestVersion, e.ToolRequest.ManifestVersion = "", "", ""
	e.Stage, e.ReasonCode = tollgate.StageRateLimit, tollgate.ReasonRateLimited
	e.ApprovalID, e.GrantID = "ap-1", "gr-1"
	e.Shadow = &Shadow{Decision: "ALLOW", Rule: "cand", Reason: "api_key=abcdef123456"}
	e.TraceID, e.SpanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	m := slogLines(t, slog.LevelInfo, []*Event{e})[0]
	want := []string{"action", "agent", "approval_id", "correlation_id", "decision", "effect", "grant_id", "intent", "level",
		"msg", "outcome", "reason", "reason_code", "request_hash", "resource_type", "shadow", "span_id", "stage", "time",
		"tool", "trace_id"}
	if got := keys(m); !slices.Equal(got, want) {
		t.Errorf("keys = %v\nwant   %v", got, want)
	}
	if got := m["agent"].(map[string]any)["delegated_by"]; !slices.Equal(toStrings(got), []string{"parent", "root"}) {
		t.Errorf("delegated_by = %v", got)
	}
	if m["trace_id"] != e.TraceID || m["span_id"] != e.SpanID {
		t.Errorf("trace_id, span_id = %v, %v", m["trace_id"], m["span_id"])
	}
	if m["stage"] != "ratelimit" || m["reason_code"] != "RATE_LIMITED" || m["outcome"] != "blocked" {
		t.Errorf("stage, reason_code, outcome = %v, %v, %v", m["stage"], m["reason_code"], m["outcome"])
	}
	sh := m["shadow"].(map[string]any)
	if sh["decision"] != "ALLOW" || sh["rule"] != "cand" || sh["reason"] != "api_key="+Redacted {
		t.Errorf("shadow = %v", sh)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestSlogSinkOneLinePerCall(t *testing.T) {
	call := benchCalls(1)[0]
	lines := slogLines(t, slog.LevelInfo, call[:])
	if len(lines) != 1 || lines[0]["outcome"] != "executed" {
		t.Fatalf("lines = %v, want only the executed record", lines)
	}
}

func TestSlogSinkLevel(t *testing.T) {
	e := testEvent(3)
	if lines := slogLines(t, slog.LevelWarn, []*Event{e}); len(lines) != 0 {
		t.Errorf("handler at Warn logged an Info line: %v", lines)
	}
	lines := slogLines(t, slog.LevelWarn, []*Event{e}, WithLevel(slog.LevelError))
	if len(lines) != 1 || lines[0]["level"] != "ERROR" {
		t.Errorf("WithLevel(Error): %v", lines)
	}
	if lines := slogLines(t, slog.LevelInfo, []*Event{e}, WithLevel(slog.LevelDebug)); len(lines) != 0 {
		t.Errorf("handler at Info logged a Debug line: %v", lines)
	}
}

func TestSlogSinkRedactorOption(t *testing.T) {
	m := slogLines(t, slog.LevelInfo, []*Event{secretEvent()}, WithSlogRedactor(NewRedactor()))[0]
	if got := m["intent"].(map[string]any)["reason"]; got != "fetch with password=hunter2hunter2" {
		t.Errorf("NewRedactor() (none) changed the reason: %q", got)
	}
	m = slogLines(t, slog.LevelInfo, []*Event{secretEvent()}, WithSlogRedactor(nil))[0]
	if got := m["intent"].(map[string]any)["reason"]; got != "fetch with password="+Redacted {
		t.Errorf("nil redactor is not the default: %q", got)
	}
}

func TestSlogSinkBoundsLongStrings(t *testing.T) {
	e := testEvent(4)
	e.Intent.Reason = strings.Repeat("word ", 2000)
	m := slogLines(t, slog.LevelInfo, []*Event{e})[0]
	if got := m["intent"].(map[string]any)["reason"].(string); len(got) > DefaultMaxValueSize || got != truncated(e.Intent.Reason) {
		t.Errorf("intent.reason not cut: %d bytes", len(got))
	}
}

func TestSlogSinkConfigRecords(t *testing.T) {
	loaded := &Event{Kind: KindConfigLoaded, Timestamp: testTime, Config: &ConfigChange{Files: []ConfigFile{
		{Role: "policy", Path: "policy.yaml", SHA256: "aa"}, {Role: "manifest", Path: "manifest.yaml", SHA256: "bb"}}}}
	rejected := &Event{Kind: KindConfigRejected, Timestamp: testTime, Config: &ConfigChange{
		File: "policy.yaml", Line: 3, Reason: "bad value password=hunter2hunter2"}}
	lines := slogLines(t, slog.LevelInfo, []*Event{loaded, rejected})
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2", len(lines))
	}
	l, r := lines[0], lines[1]
	if l["msg"] != SlogConfigMessage || l["kind"] != KindConfigLoaded || l["level"] != "INFO" {
		t.Errorf("loaded = %v", l)
	}
	if got := l["config"].(map[string]any)["manifest"].(map[string]any); got["path"] != "manifest.yaml" || got["sha256"] != "bb" {
		t.Errorf("loaded config.manifest = %v", got)
	}
	if got, want := keys(l), []string{"config", "kind", "level", "msg", "time"}; !slices.Equal(got, want) {
		t.Errorf("loaded keys = %v, want %v", got, want)
	}
	c := r["config"].(map[string]any)
	if r["kind"] != KindConfigRejected || r["level"] != "WARN" || c["file"] != "policy.yaml" || c["line"] != 3.0 ||
		c["reason"] != "bad value password="+Redacted {
		t.Errorf("rejected = %v", r)
	}
	// A rejection is a warning even when decisions are logged at Debug.
	if lines := slogLines(t, slog.LevelWarn, []*Event{rejected}, WithLevel(slog.LevelDebug)); len(lines) != 1 {
		t.Errorf("rejected config at Debug level: %d lines, want 1", len(lines))
	}
	if lines := slogLines(t, slog.LevelInfo, []*Event{{Kind: KindConfigLoaded}}); len(lines) != 1 || lines[0]["time"] == nil {
		t.Errorf("record without config or timestamp: %v", lines)
	}
}

func TestSlogSinkErrors(t *testing.T) {
	if _, err := NewSlogSink(nil); err == nil {
		t.Error("NewSlogSink(nil) succeeded")
	}
	if _, err := NewSlogSink(slog.New(slog.DiscardHandler), nil); err == nil {
		t.Error("NewSlogSink with a nil option succeeded")
	}
	s, err := NewSlogSink(slog.New(failingHandler{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Emit(context.Background(), nil); err == nil {
		t.Error("Emit(nil) succeeded")
	}
	if err := s.Emit(context.Background(), testEvent(5)); err != nil {
		t.Errorf("a handler's error reached the caller: %v", err)
	}
}

type failingHandler struct{ slog.Handler }

func (failingHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (failingHandler) Handle(context.Context, slog.Record) error { return errors.New("disk full") }

func TestSlogSinkComposite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logSink, err := NewSlogSink(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := Composite(file, logSink)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range benchCalls(2) {
		for _, ev := range e {
			if err := sink.Emit(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var records []Event // Read reuses its Record
	if err := Read(f, func(r *Record) error { records = append(records, r.Event); return nil }); err != nil {
		t.Fatal(err)
	}
	lines := decodeLines(t, &buf)
	if len(records) != 4 || len(lines) != 2 {
		t.Fatalf("file has %d records (want 4), log %d lines (want 2)", len(records), len(lines))
	}
	for i, l := range lines {
		if rec := records[2*i+1]; l["correlation_id"] != rec.CorrelationID || l["outcome"] != string(rec.Outcome) {
			t.Errorf("line %d = %v, file record %+v", i, l, rec)
		}
		if _, ok := l["params"]; ok {
			t.Errorf("line %d has params", i)
		}
	}
	if len(records[1].ToolRequest.Params) == 0 {
		t.Error("file record lost its params")
	}
}

func BenchmarkSlogSinkEmit(b *testing.B) {
	e := testEvent(1)
	for _, bc := range []struct {
		name    string
		handler slog.Handler
	}{
		{"json", slog.NewJSONHandler(io.Discard, nil)},
		{"disabled", slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewSlogSink(slog.New(bc.handler))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			runBench(b, false, func(uint64) error { return s.Emit(ctx, e) })
		})
	}
}
