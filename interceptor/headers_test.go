package interceptor

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestDecodeAgent(t *testing.T) {
	full := `{"agent_id": "a", "version": "1", "owner": "o", "metadata": {"_signature": "ab", "n": 1}, "delegated_by": ["root", "mid"]}`
	got, err := decodeAgent(full)
	if err != nil {
		t.Fatal(err)
	}
	want := tollgate.Agent{ID: "a", Version: "1", Owner: "o", DelegatedBy: []string{"root", "mid"},
		Metadata: tollgate.Params{{Key: "_signature", Value: "ab"}, {Key: "n", Value: json.Number("1")}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	for _, bad := range []struct{ in, why string }{
		{``, "bad JSON"},
		{`not json`, "bad JSON"},
		{`[]`, "want a JSON object"},
		{`{"agent_id": "a", "version": "1"}`, "are required"},
		{`{"agent_id": 1, "version": "1", "owner": "o"}`, `"agent_id" must be a string`},
		{`{"agent_id": "a", "version": "1", "owner": "o", "role": "admin"}`, `unknown key "role"`},
		{`{"agent_id": "a", "version": "1", "owner": "o", "metadata": []}`, `"metadata" must be an object`},
		{`{"agent_id": "a", "version": "1", "owner": "o", "delegated_by": "root"}`, "array of strings"},
		{`{"agent_id": "a", "version": "1", "owner": "o", "delegated_by": [1]}`, "array of strings"},
		{`{"agent_id": "a", "agent_id": "b", "version": "1", "owner": "o"}`, "duplicate key"},
		{full + `, ` + full, "bad JSON"}, // a repeated header, joined
	} {
		_, err := decodeAgent(bad.in)
		if err == nil {
			t.Errorf("%q: accepted", bad.in)
			continue
		}
		if !strings.Contains(err.Error(), "malformed "+HeaderAgent) || (bad.why != "bad JSON" && !strings.Contains(err.Error(), bad.why)) {
			t.Errorf("%q: error %q, want it to say %q", bad.in, err, bad.why)
		}
	}
}

func TestEncodeAgentIsASCIIAndRoundTrips(t *testing.T) {
	a := tollgate.Agent{ID: "agent-é", Version: "1", Owner: "équipe 🚀", DelegatedBy: []string{"orchestrator"},
		Metadata: tollgate.Params{{Key: "_signature", Value: "00ff"}, {Key: "note", Value: "<tag> & \"quote\"\n"}}}
	s, err := encodeAgent(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("header value has %q, not printable ASCII: %s", r, s)
		}
	}
	back, err := decodeAgent(s)
	if err != nil || !reflect.DeepEqual(back, a) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, a)
	}
}

func TestEncodeAgentWithoutMetadata(t *testing.T) {
	s, err := encodeAgent(testAgent)
	if want := `{"agent_id":"test-agent","version":"1.0.0","owner":"test-team","metadata":{},"delegated_by":[]}`; err != nil || s != want {
		t.Errorf("got %s, %v; want %s", s, err, want)
	}
}

func TestEncodeAgentFailure(t *testing.T) {
	if _, err := encodeAgent(tollgate.Agent{Metadata: tollgate.Params{{Key: "f", Value: func() {}}}}); err == nil {
		t.Error("an agent whose metadata cannot be JSON was encoded")
	}
}

func TestReadCaller(t *testing.T) {
	var g gate
	c := g.readCaller(map[string][]string{
		HeaderIntentAction: {"close", "delete"},
		HeaderIntentReason: {"stale"},
		HeaderApprovalID:   {"apr-9"},
	}, nil)
	if c.intent.Action != "close, delete" || c.intent.Reason != "stale" || c.approvalID != "apr-9" {
		t.Errorf("caller = %+v", c)
	}
	if c.agentErr != nil || c.creds.Claimed.ID != "" {
		t.Errorf("no agent header, but claimed %+v (%v)", c.creds.Claimed, c.agentErr)
	}
	if c := g.readCaller(map[string][]string{HeaderAgent: {""}}, nil); c.agentErr == nil {
		t.Error("an empty agent header was accepted")
	}
}

func FuzzDecodeAgent(f *testing.F) {
	for _, s := range []string{
		`{"agent_id": "a", "version": "1", "owner": "o"}`,
		`{"agent_id": "a", "version": "1", "owner": "o", "metadata": {"_signature": "x"}, "delegated_by": ["r"]}`,
		`{"agent_id": "\u00e9", "version": "", "owner": "", "metadata": {"a": [1, {"b": null}]}}`,
		`[[[[`, `{"agent_id": 1e400}`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := decodeAgent(s)
		if err != nil {
			return
		}
		enc, err := encodeAgent(a)
		if err != nil {
			t.Fatalf("decoded agent does not encode: %v", err)
		}
		back, err := decodeAgent(enc)
		if err != nil {
			t.Fatalf("re-encoded agent does not decode: %v\n%s", err, enc)
		}
		enc2, _ := encodeAgent(back)
		if enc2 != enc {
			t.Fatalf("not stable:\n%s\n%s", enc, enc2)
		}
	})
}
