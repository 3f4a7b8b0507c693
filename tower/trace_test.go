package tower

import (
	"context"
	"errors"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

func tracedTower(t *testing.T, cfg *Config) (*Tower, *recorder, *tracetest.SpanRecorder) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tw, rec := newTower(t, cfg, WithTracerProvider(tp))
	return tw, rec, spans
}

func eventNames(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, e := range s.Events() {
		out = append(out, e.Name)
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

// Each call gets one span, child of the caller's, with an event per stage
// it reached and the call's attributes; the tool runs inside it; both audit
// records carry its ids.
func TestTracedCall(t *testing.T) {
	tw, rec, spans := tracedTower(t, &Config{Policy: fixed(tollgate.Allow)})
	parentTP := sdktrace.NewTracerProvider()
	ctx, parent := parentTP.Tracer("test").Start(context.Background(), "rpc")
	defer parent.End()

	var inTool trace.SpanContext
	exec := func(ctx context.Context) (any, error) {
		inTool = trace.SpanContextFromContext(ctx)
		return "ok", nil
	}
	if _, err := tw.ExecuteCall(ctx, Call{Credentials: claimed, Request: req("mock:run")}, exec); err != nil {
		t.Fatal(err)
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	s := ended[0]
	sc := s.SpanContext()
	if s.Name() != SpanName || s.Parent().SpanID() != parent.SpanContext().SpanID() || sc.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span %q parent %v trace %v, want %q under %v", s.Name(), s.Parent().SpanID(), sc.TraceID(), SpanName, parent.SpanContext().SpanID())
	}
	if inTool.SpanID() != sc.SpanID() {
		t.Errorf("tool ran in span %v, want the call's %v", inTool.SpanID(), sc.SpanID())
	}
	want := []string{"identity", "breaker", "ratelimit", "policy", "netguard", "schema", "audit", "execute", "audit"}
	if got := eventNames(s); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	a := attrs(s)
	if a[AttrTool] != "mock:run" || a[AttrDecision] != "ALLOW" || a[AttrOutcome] != "executed" || a[AttrCorrelationID] == "" {
		t.Errorf("attributes %v", a)
	}
	if _, ok := a[AttrReason]; ok || s.Status().Code == codes.Error {
		t.Errorf("executed call has reason %q, status %v", a[AttrReason], s.Status())
	}
	if len(rec.events) != 2 {
		t.Fatalf("%d audit records, want 2", len(rec.events))
	}
	for _, e := range rec.events {
		if e.TraceID != sc.TraceID().String() || e.SpanID != sc.SpanID().String() || e.CorrelationID != a[AttrCorrelationID] {
			t.Errorf("audit %s record ids %q %q %q, span %v %v", e.Outcome, e.TraceID, e.SpanID, e.CorrelationID, sc.TraceID(), sc.SpanID())
		}
	}
}

// A refusal's span is an Error with the reason and refusing stage, and
// stops at the stage that refused; a root call (no parent) gets a new trace.
func TestTracedRefusal(t *testing.T) {
	tw, rec, spans := tracedTower(t, &Config{Policy: fixed(tollgate.Deny)})
	_, err := tw.ExecuteCall(context.Background(), Call{Credentials: claimed, Request: req("made:up")}, ok)
	wantRefusal(t, err, tollgate.ReasonPolicyDenied)
	s := spans.Ended()[0]
	a := attrs(s)
	if s.Status().Code != codes.Error || a[AttrReason] != string(tollgate.ReasonPolicyDenied) || a[AttrStage] != "policy" || a[AttrTool] != UnknownTool || a[AttrDecision] != "DENY" {
		t.Errorf("refusal span status %v attributes %v", s.Status(), a)
	}
	if got, want := eventNames(s), []string{"identity", "breaker", "ratelimit", "policy", "audit"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if s.Parent().IsValid() || rec.last(t).TraceID != s.SpanContext().TraceID().String() {
		t.Errorf("root span parent %v; audit trace %q", s.Parent(), rec.last(t).TraceID)
	}

	// A front door refusal is traced the same way.
	tw.Refuse(context.Background(), Call{Credentials: claimed, Request: req("mock:run")}, frontDoorRefusal())
	if n := len(spans.Ended()); n != 2 || spans.Ended()[1].Status().Code != codes.Error {
		t.Errorf("front door refusal: %d spans", n)
	}
}

// A tool's failure is the span's error too.
func TestTracedToolFailure(t *testing.T) {
	tw, _, spans := tracedTower(t, &Config{Policy: fixed(tollgate.Allow)})
	boom := func(context.Context) (any, error) { return nil, errors.New("boom") }
	if _, err := tw.ExecuteCall(context.Background(), Call{Credentials: claimed, Request: req("mock:run")}, boom); err == nil {
		t.Fatal("no error")
	}
	if s := spans.Ended()[0]; s.Status().Code != codes.Error || attrs(s)[AttrOutcome] != "failed" {
		t.Errorf("failed call span %v %v", s.Status(), attrs(s))
	}
}

// Without a recording span (no tracer, a no-op provider) records carry no
// trace ids, even when the caller's context holds a span.
func TestUntracedRecordsHaveNoIDs(t *testing.T) {
	ctx, parent := sdktrace.NewTracerProvider().Tracer("test").Start(context.Background(), "rpc")
	defer parent.End()
	for name, opts := range map[string][]Option{"none": nil, "noop": {WithTracerProvider(noop.NewTracerProvider())}} {
		tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, opts...)
		if _, err := tw.ExecuteCall(ctx, Call{Credentials: claimed, Request: req("mock:run")}, ok); err != nil {
			t.Fatal(err)
		}
		if e := rec.last(t); e.TraceID != "" || e.SpanID != "" {
			t.Errorf("%s: record ids %q %q", name, e.TraceID, e.SpanID)
		}
	}
}

// BenchmarkPipelineTracing is BenchmarkPipeline with a no-op tracer
// provider: the cost of tracing switched on when nothing records.
func BenchmarkPipelineTracing(b *testing.B) {
	sink, err := audit.OpenFile(b.TempDir() + "/audit.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	tw, call := pipelineCall(b, sink)
	WithTracerProvider(noop.NewTracerProvider())(tw)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineTracingDiscard is the same without audit I/O, where the
// difference shows against BenchmarkPipelineDiscard.
func BenchmarkPipelineTracingDiscard(b *testing.B) {
	tw, call := pipelineCall(b, audit.Discard)
	WithTracerProvider(noop.NewTracerProvider())(tw)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			b.Fatal(err)
		}
	}
}
