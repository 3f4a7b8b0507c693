package tower

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-go/tollgate"
)

// SpanName is the name of the span each gated call gets. It is one fixed
// name, not the tool's: a caller must not be able to grow a tracing
// backend's span-name index by inventing tools; the tool is an attribute.
const SpanName = "tollgate.call"

// tracerName is the instrumentation scope, the package's import path as
// OpenTelemetry asks.
const tracerName = "github.com/tollgate-go/tollgate/tower"

// Span attribute keys. Every value comes from a bounded set, like
// CallInfo's, except the correlation id, which ties the span to its audit
// records.
const (
	AttrTool          = attribute.Key("tollgate.tool") // UnknownTool for a tool the manifest does not know
	AttrDecision      = attribute.Key("tollgate.decision")
	AttrOutcome       = attribute.Key("tollgate.outcome")
	AttrPolicyRule    = attribute.Key("tollgate.policy_rule") // the matching rule's id, "" when none matched
	AttrReason        = attribute.Key("tollgate.reason")      // refusals only
	AttrStage         = attribute.Key("tollgate.stage")       // the refusing stage, refusals only
	AttrCorrelationID = attribute.Key("tollgate.correlation_id")
)

// WithTracerProvider gives every call ExecuteCall or Refuse handles a span
// (SpanName) from tp, started from the call's context, so a span that
// otelgrpc or otelconnect started from the incoming metadata is its
// parent. The span gets an event per stage the call reaches, named after
// the stage, and the Attr* attributes when it ends; a refusal or a failed
// tool sets its status to Error. The tool runs with the span in its
// context, so the handler's own spans nest under it, and the call's audit
// records carry trace_id and span_id while the span records. Decide, a
// dry run, is not traced. Without this option (or with a nil tp) there is
// no span and no cost; with a non-recording span (a no-op provider, an
// unsampled trace) only starting and ending it is paid for.
//
// Tower imports the OpenTelemetry API only; the SDK and its exporters are
// the program's choice.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(t *Tower) {
		t.tracer = nil
		if tp != nil {
			t.tracer = tp.Tracer(tracerName)
		}
	}
}

// callSpan is a flight's span; the zero value (no tracer) does nothing.
type callSpan struct {
	span trace.Span
	// rec is span.IsRecording(), asked once: events and attributes are
	// only built for a span that keeps them.
	rec bool
	// traceID and spanID are the audit record's, encoded once per call.
	traceID, spanID string
}

// startSpan starts the call's span and puts it in the flight's context.
func (f *flight) startSpan() {
	if f.t.tracer == nil {
		return
	}
	ctx, span := f.t.tracer.Start(f.ctx, SpanName) // SpanKindInternal, the default
	f.ctx, f.span.span, f.span.rec = ctx, span, span.IsRecording()
	if sc := span.SpanContext(); f.span.rec && sc.IsValid() {
		f.span.traceID, f.span.spanID = sc.TraceID().String(), sc.SpanID().String()
	}
}

// spanEvent marks the start of stage on the span.
func (f *flight) spanEvent(stage tollgate.Stage) {
	if f.span.rec {
		f.span.span.AddEvent(string(stage))
	}
}

// endSpan says how the call ended and ends its span; refusal is nil for a
// call that ran.
func (f *flight) endSpan(refusal *tollgate.Error) {
	s := f.span.span
	if s == nil {
		return
	}
	if f.span.rec {
		tool := UnknownTool
		if f.tool != nil {
			tool = f.req.Tool
		}
		s.SetAttributes(
			AttrTool.String(tool),
			AttrDecision.String(string(f.decision.Type)),
			AttrOutcome.String(string(f.outcome)),
			AttrPolicyRule.String(f.decision.PolicyID),
			AttrCorrelationID.String(f.correlationID),
		)
		switch {
		case refusal != nil:
			s.SetAttributes(AttrReason.String(string(refusal.Reason)), AttrStage.String(string(refusal.Stage)))
			s.SetStatus(codes.Error, string(refusal.Reason))
		case f.outcome == tollgate.OutcomeFailed:
			s.SetStatus(codes.Error, "tool failed")
		}
	}
	s.End()
}
