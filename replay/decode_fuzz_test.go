package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// FuzzDecodeAgreesWithAuditRead is the differential test of replay's fast
// line decoder against audit.Read, the reference reader: on every line
// audit.Read accepts, decode succeeds and reads the same fields. Lines
// with duplicate or non-lower-case keys are left out — there the two are
// documented to differ (see record), and the gateway writes neither.
func FuzzDecodeAgreesWithAuditRead(f *testing.F) {
	f.Add([]byte(`{"schema_version": "1.0", "timestamp": "2026-02-05T03:31:26.550942+00:00", "correlation_id": "c1", "request_hash": "h", "agent": {"agent_id": "a", "version": "1", "owner": "o", "metadata": {"k": [1, {"x": null}]}, "delegated_by": ["root"]}, "intent": {"action": "act", "reason": "r", "confidence": 0.5, "metadata": {}}, "tool_request": {"tool": "t", "action": "run", "resource_type": "thing", "effect": "read", "params": {"q": "v", "n": 1.50}, "metadata": {"m": true}, "manifest_version": "1.0"}, "decision": {"decision": "ALLOW", "reason": "ok", "policy_id": "p", "policy_version": "1", "metadata": {}}, "outcome": "executed", "approval_id": null, "grant_id": null, "result_summary": "done", "policy_version": "1", "manifest_version": "1.0", "stage": "policy", "reason_code": "POLICY_DENIED", "seq": 3, "prev_hash": "0", "hash": "1"}` + "\n"))
	f.Add([]byte(`{"decision": {"decision": "DENY", "reason": "Rate limit exceeded"}, "outcome": "blocked", "tool_request": {"params": null}}` + "\n"))
	f.Add([]byte(`{"kind": "checkpoint", "seq": 9}` + "\n"))
	f.Add([]byte(`{"agent": {"agent_id": 1}}` + "\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if i := bytes.IndexByte(line, '\n'); i < 0 || i != len(line)-1 || !plainKeys(line) {
			return
		}
		var want *audit.Record
		if audit.Read(bytes.NewReader(line), func(r *audit.Record) error {
			c := *r
			want = &c
			return nil
		}) != nil || want == nil {
			return
		}
		var got record
		if err := decode(line[:len(line)-1], 1, &got); err != nil {
			t.Fatalf("audit.Read accepts the line, decode refuses it: %v", err)
		}
		e := want.Event
		pairs := []struct {
			name      string
			got, want any
		}{
			{"kind", got.Kind, e.Kind},
			{"seq", got.Seq, want.Seq},
			{"correlation_id", got.CorrelationID, e.CorrelationID},
			{"agent_id", got.Agent.ID, e.Agent.ID},
			{"version", got.Agent.Version, e.Agent.Version},
			{"owner", got.Agent.Owner, e.Agent.Owner},
			{"delegated_by", len(got.Agent.DelegatedBy), len(e.Agent.DelegatedBy)},
			{"intent.action", got.Intent.Action, e.Intent.Action},
			{"intent.reason", got.Intent.Reason, e.Intent.Reason},
			{"tool", got.ToolRequest.Tool, e.ToolRequest.Tool},
			{"action", got.ToolRequest.Action, e.ToolRequest.Action},
			{"resource_type", got.ToolRequest.ResourceType, e.ToolRequest.ResourceType},
			{"effect", got.ToolRequest.Effect, string(e.ToolRequest.Effect)},
			{"manifest_version", got.ToolRequest.ManifestVersion, e.ToolRequest.ManifestVersion},
			{"decision", got.Decision.Decision, string(e.Decision.Type)},
			{"decision.reason", got.Decision.Reason, e.Decision.Reason},
			{"policy_id", got.Decision.PolicyID, e.Decision.PolicyID},
			{"outcome", got.Outcome, string(e.Outcome)},
			{"stage", got.Stage, string(e.Stage)},
			{"reason_code", got.ReasonCode, string(e.ReasonCode)},
		}
		for _, p := range pairs {
			if !reflect.DeepEqual(p.got, p.want) {
				t.Fatalf("%s: decode read %#v, audit.Read %#v", p.name, p.got, p.want)
			}
		}
		for _, o := range []struct {
			name string
			raw  json.RawMessage
			want tollgate.Params
		}{
			{"params", got.ToolRequest.Params, e.ToolRequest.Params},
			{"tool_request.metadata", got.ToolRequest.Metadata, e.ToolRequest.Metadata},
			{"agent.metadata", got.Agent.Metadata, e.Agent.Metadata},
			{"intent.metadata", got.Intent.Metadata, e.Intent.Metadata},
		} {
			p, err := object(o.raw, o.name, 1)
			if err != nil {
				t.Fatalf("%s: audit.Read accepts it, object refuses it: %v", o.name, err)
			}
			if g, w := encode(t, p), encode(t, o.want); g != w {
				t.Fatalf("%s: decode read %s, audit.Read %s", o.name, g, w)
			}
		}
	})
}

// plainKeys reports whether every object key in the JSON text is ASCII
// without upper-case letters and no object repeats a key.
func plainKeys(line []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.key {
				for i := 0; i < len(v); i++ {
					if v[i] >= 0x80 || ('A' <= v[i] && v[i] <= 'Z') {
						return false
					}
				}
				if top.keys[v] {
					return false
				}
				top.keys[v] = true
				top.key = false
				continue
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

func encode(t *testing.T, p tollgate.Params) string {
	t.Helper()
	if len(p) == 0 {
		return "{}"
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("encoding %v: %v", p, err)
	}
	return string(b)
}
