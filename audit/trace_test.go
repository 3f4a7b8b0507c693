package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A traced call's record ends with trace_id and span_id after every other
// optional key, matches the published schema, reads back, and a second
// record of the same call (the segment cache reuses its request part)
// carries its own ids; an untraced record has neither key.
func TestTraceIDsRecorded(t *testing.T) {
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	authorized := testEvent(1)
	authorized.Shadow = &Shadow{Decision: "DENY", Reason: "No matching rule."}
	authorized.TraceID, authorized.SpanID = traceID, spanID
	outcome := *authorized
	outcome.Outcome, outcome.SpanID = "executed", "00f067aa0ba902b8"
	for _, e := range []*Event{authorized, &outcome, testEvent(2)} {
		if err := s.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyFile(path); err != nil || n != 3 {
		t.Fatalf("VerifyFile = %d, %v", n, err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	valid := publishedSchema(t)
	for i, l := range lines {
		if err := valid(l); err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, l)
		}
	}
	if want := `"reason": "No matching rule."}, "trace_id": "` + traceID + `", "span_id": "` + spanID + `", "seq": 1`; !strings.Contains(lines[0], want) {
		t.Errorf("trace keys not after shadow:\n%s", lines[0])
	}
	if !strings.Contains(lines[1], `"span_id": "00f067aa0ba902b8"`) {
		t.Errorf("second record of the call lost its own span id:\n%s", lines[1])
	}
	if strings.Contains(lines[2], `"trace_id"`) || strings.Contains(lines[2], `"span_id"`) {
		t.Errorf("an untraced record has trace keys:\n%s", lines[2])
	}
	for name, l := range map[string]string{
		"short trace id":     strings.Replace(lines[0], traceID, "4bf92f35", 1),
		"uppercase span id":  strings.Replace(lines[0], spanID, strings.ToUpper(spanID), 1),
		"trace id not a str": strings.Replace(lines[0], `"`+traceID+`"`, `1`, 1),
	} {
		if valid(l) == nil {
			t.Errorf("%s passes the schema", name)
		}
	}

	var got []Event
	f, _ := os.Open(path)
	defer f.Close()
	if err := Read(f, func(r *Record) error { got = append(got, r.Event); return nil }); err != nil {
		t.Fatal(err)
	}
	if got[0].TraceID != traceID || got[0].SpanID != spanID || got[1].SpanID != outcome.SpanID || got[2].TraceID != "" {
		t.Errorf("Read ids = %q %q, %q, %q", got[0].TraceID, got[0].SpanID, got[1].SpanID, got[2].TraceID)
	}
}
