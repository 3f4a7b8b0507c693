package audit

import (
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// SchemaVersion is the audit event schema version written to every line.
const SchemaVersion = "1.0"

// signatureKey is the agent metadata key that holds Tollgate's identity HMAC.
// It is never written: a log reader must not be able to replay it.
const signatureKey = "_signature"

// Event is one audit record. Its JSON form (AppendJSON) is Tollgate 1.4's
// audit line, key for key, followed by this implementation's stage and
// reason_code keys when they are set, shadow when shadow mode
// disagreed, and trace_id and span_id when the call was traced. A record with a Kind (config_loaded, config_rejected) has a
// form of its own (see Kind).
type Event struct {
	// SchemaVersion is written as SchemaVersion ("1.0") when empty.
	SchemaVersion string
	Timestamp     time.Time
	CorrelationID string
	RequestHash   string
	Agent         tollgate.Agent
	Intent        tollgate.Intent
	ToolRequest   tollgate.ToolRequest
	Decision      tollgate.Decision
	Outcome       tollgate.Outcome
	// ApprovalID, GrantID and ResultSummary are written as null when empty.
	ApprovalID    string
	GrantID       string
	ResultSummary string
	// PolicyVersion and ManifestVersion copy Decision.PolicyVersion and
	// ToolRequest.ManifestVersion, as Tollgate does; null when empty.
	PolicyVersion   string
	ManifestVersion string

	// Stage and ReasonCode say which stage refused the call and why. They are
	// not in Tollgate's format; their keys are left out when empty.
	Stage      tollgate.Stage
	ReasonCode tollgate.Reason
	// Shadow is the candidate policy's decision when shadow mode is on and
	// it disagrees with the enforced one; written as a "shadow" key after
	// reason_code, left out when nil.
	Shadow *Shadow
	// TraceID and SpanID are the call's OpenTelemetry span, in lowercase
	// hex (32 and 16 digits), so a log line leads to its trace; written as
	// "trace_id" and "span_id" keys after shadow, left out when empty.
	TraceID string
	SpanID  string

	// Kind is empty for a call's record. KindConfigLoaded and
	// KindConfigRejected records describe no call: only SchemaVersion,
	// Timestamp and Config are written.
	Kind   string
	Config *ConfigChange
}

// AppendJSON appends the event as one JSON object in Tollgate's audit-line
// form (separators ", " and ": ", UTF-8 kept, fixed key order) without the
// hash-chain keys and without a trailing newline. Agent metadata
// "_signature" is always left out. AppendJSON does not redact: sinks run
// their Redactor first.
func (e *Event) AppendJSON(dst []byte) []byte {
	if e.Kind != "" {
		return e.appendKindRecord(dst)
	}
	dst = e.appendHead(dst)
	dst = e.appendRequest(dst)
	return e.appendTail(dst)
}

// appendSchemaVersion opens a line with its schema_version key.
func (e *Event) appendSchemaVersion(dst []byte) []byte {
	sv := e.SchemaVersion
	if sv == "" {
		sv = SchemaVersion
	}
	dst = append(dst, `{"schema_version": `...)
	return pycompat.Log.AppendString(dst, sv)
}

// appendHead writes the keys before the agent: `{"schema_version": …,
// "request_hash": …`.
func (e *Event) appendHead(dst []byte) []byte {
	js := pycompat.Log
	dst = e.appendSchemaVersion(dst)
	dst = append(dst, `, "timestamp": "`...)
	dst = appendTimestamp(dst, e.Timestamp)
	dst = append(dst, `", "correlation_id": `...)
	dst = js.AppendString(dst, e.CorrelationID)
	dst = append(dst, `, "request_hash": `...)
	return js.AppendString(dst, e.RequestHash)
}

// appendRequest writes the part a call's records share — `, "agent": {…},
// "intent": {…}, "tool_request": {…}` — which FileSink encodes once per
// call (segments).
func (e *Event) appendRequest(dst []byte) []byte {
	js := pycompat.Log
	a := &e.Agent
	dst = append(dst, `, "agent": {"agent_id": `...)
	dst = js.AppendString(dst, a.ID)
	dst = append(dst, `, "version": `...)
	dst = js.AppendString(dst, a.Version)
	dst = append(dst, `, "owner": `...)
	dst = js.AppendString(dst, a.Owner)
	dst = append(dst, `, "metadata": `...)
	dst = appendAgentMetadata(dst, a.Metadata)
	dst = append(dst, `, "delegated_by": `...)
	dst = append(dst, '[')
	for i, id := range a.DelegatedBy {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = js.AppendString(dst, id)
	}
	dst = append(dst, ']')

	in := &e.Intent
	dst = append(dst, `}, "intent": {"action": `...)
	dst = js.AppendString(dst, in.Action)
	dst = append(dst, `, "reason": `...)
	dst = js.AppendString(dst, in.Reason)
	dst = append(dst, `, "confidence": `...)
	if in.Confidence == nil {
		dst = append(dst, "null"...)
	} else {
		dst = js.AppendJSON(dst, *in.Confidence)
	}
	dst = append(dst, `, "metadata": `...)
	dst = appendObject(dst, in.Metadata)

	tr := &e.ToolRequest
	dst = append(dst, `}, "tool_request": {"tool": `...)
	dst = js.AppendString(dst, tr.Tool)
	dst = append(dst, `, "action": `...)
	dst = js.AppendString(dst, tr.Action)
	dst = append(dst, `, "resource_type": `...)
	dst = js.AppendString(dst, tr.ResourceType)
	dst = append(dst, `, "effect": `...)
	dst = js.AppendString(dst, string(tr.Effect))
	dst = append(dst, `, "params": `...)
	dst = appendObject(dst, tr.Params)
	dst = append(dst, `, "metadata": `...)
	dst = appendObject(dst, tr.Metadata)
	dst = append(dst, `, "manifest_version": `...)
	dst = appendNullable(dst, tr.ManifestVersion)
	return append(dst, '}')
}

// appendTail writes the keys after the tool request, from `, "decision": `
// to the closing brace.
func (e *Event) appendTail(dst []byte) []byte {
	js := pycompat.Log
	d := &e.Decision
	dst = append(dst, `, "decision": {"decision": `...)
	dst = js.AppendString(dst, string(d.Type))
	dst = append(dst, `, "reason": `...)
	dst = js.AppendString(dst, d.Reason)
	dst = append(dst, `, "policy_id": `...)
	dst = appendNullable(dst, d.PolicyID)
	dst = append(dst, `, "policy_version": `...)
	dst = appendNullable(dst, d.PolicyVersion)
	dst = append(dst, `, "metadata": `...)
	dst = appendObject(dst, d.Metadata)

	dst = append(dst, `}, "outcome": `...)
	dst = js.AppendString(dst, string(e.Outcome))
	dst = append(dst, `, "approval_id": `...)
	dst = appendNullable(dst, e.ApprovalID)
	dst = append(dst, `, "grant_id": `...)
	dst = appendNullable(dst, e.GrantID)
	dst = append(dst, `, "result_summary": `...)
	dst = appendNullable(dst, e.ResultSummary)
	dst = append(dst, `, "policy_version": `...)
	dst = appendNullable(dst, e.PolicyVersion)
	dst = append(dst, `, "manifest_version": `...)
	dst = appendNullable(dst, e.ManifestVersion)
	if e.Stage != "" {
		dst = append(dst, `, "stage": `...)
		dst = js.AppendString(dst, string(e.Stage))
	}
	if e.ReasonCode != "" {
		dst = append(dst, `, "reason_code": `...)
		dst = js.AppendString(dst, string(e.ReasonCode))
	}
	if e.Shadow != nil {
		dst = appendShadow(dst, e.Shadow)
	}
	if e.TraceID != "" {
		dst = append(dst, `, "trace_id": `...)
		dst = js.AppendString(dst, e.TraceID)
	}
	if e.SpanID != "" {
		dst = append(dst, `, "span_id": `...)
		dst = js.AppendString(dst, e.SpanID)
	}
	return append(dst, '}')
}

// appendTimestamp writes t as Python's datetime.isoformat() of a UTC time:
// six-digit microseconds (truncated), or no fraction at all when the
// microseconds are zero, and the offset spelt +00:00. (Digits are written
// directly: time.AppendFormat re-parses its layout on every call.)
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		dst = appendDigits(dst, us, 6)
	}
	return append(dst, "+00:00"...)
}

// appendDigits writes v as exactly width (at most 6) decimal digits, the
// lowest ones when v is wider. Python's datetime only knows years 1-9999;
// a negative v is written as zeros.
func appendDigits(dst []byte, v, width int) []byte {
	var buf [6]byte
	v = max(v, 0)
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:width]...)
}

// appendNullable writes s as a JSON string, or null when it is empty.
func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return pycompat.Log.AppendString(dst, s)
}

// appendObject writes p, or {} when it is nil (Tollgate's default_factory).
// It walks the fields itself: passing p to AppendJSON as an `any` would
// allocate.
func appendObject(dst []byte, p tollgate.Params) []byte {
	return appendObjectWithout(dst, p, "")
}

// appendAgentMetadata writes the agent metadata without its "_signature".
func appendAgentMetadata(dst []byte, p tollgate.Params) []byte {
	return appendObjectWithout(dst, p, signatureKey)
}

// appendObjectWithout writes p without the key skip (none when "").
func appendObjectWithout(dst []byte, p tollgate.Params, skip string) []byte {
	dst = append(dst, '{')
	first := true
	for _, f := range p {
		if skip != "" && f.Key == skip {
			continue
		}
		if !first {
			dst = append(dst, ", "...)
		}
		first = false
		dst = pycompat.Log.AppendString(dst, f.Key)
		dst = append(dst, ": "...)
		dst = pycompat.Log.AppendJSON(dst, f.Value)
	}
	return append(dst, '}')
}
