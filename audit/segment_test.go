package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// A call's second record reuses the first one's request encoding, and
// every record is byte for byte what encoding it whole gives — also when
// the request changed under the same correlation id, needs redaction or
// bounding, or is too large for the cache or the line.
func TestSegmentsReuseKeepsLinesExact(t *testing.T) {
	conf := 0.9
	secret := func(e *Event) {
		e.ToolRequest.Params = tollgate.Params{{Key: "api_key", Value: "sk-live-1234"}, {Key: "db", Value: "postgres://u:hunter2@db/x"}}
		e.Intent.Reason = "uses Bearer abcdefghijklmnopqrstuvwxyz0123456789"
	}
	huge := func(e *Event) {
		e.ToolRequest.Params = tollgate.Params{{Key: "sql", Value: strings.Repeat("SELECT 1; ", 2000)}}
	}
	many := func(e *Event) {
		for i := range 1100 {
			e.ToolRequest.Params = append(e.ToolRequest.Params, tollgate.Field{Key: "k", Value: strings.Repeat("v", 30000+i)})
		}
	}
	for _, c := range []struct {
		name   string
		setup  func(*Event)        // both records
		change func(second *Event) // the second record only
		hit    bool
	}{
		{name: "same request", hit: true},
		{name: "confidence and delegation", setup: func(e *Event) {
			e.Intent.Confidence, e.Agent.DelegatedBy = &conf, []string{"root", "mid"}
		}, hit: true},
		{name: "secrets redacted", setup: secret, hit: true},
		{name: "long value bounded", setup: huge, hit: true},
		{name: "new params slice", change: func(e *Event) {
			e.ToolRequest.Params = tollgate.Params{{Key: "path", Value: "other.txt"}}
		}},
		{name: "equal params, another slice", change: func(e *Event) {
			e.ToolRequest.Params = append(tollgate.Params(nil), e.ToolRequest.Params...)
		}},
		{name: "agent id", change: func(e *Event) { e.Agent.ID = "other-bot" }},
		{name: "intent reason", change: func(e *Event) { e.Intent.Reason = "other" }},
		{name: "confidence value", change: func(e *Event) { c := 0.5; e.Intent.Confidence = &c }},
		{name: "delegation", change: func(e *Event) { e.Agent.DelegatedBy = []string{"x"} }},
		{name: "effect", change: func(e *Event) { e.ToolRequest.Effect = tollgate.EffectDelete }},
		{name: "manifest version", change: func(e *Event) { e.ToolRequest.ManifestVersion = "2" }},
		{name: "correlation id", change: func(e *Event) { e.CorrelationID = "corr-other" }},
		{name: "no correlation id", setup: func(e *Event) { e.CorrelationID = "" }},
		{name: "too large for the cache", setup: func(e *Event) {
			e.ToolRequest.Metadata = tollgate.Params{{Key: "blob", Value: strings.Repeat("a", 3000)},
				{Key: "b2", Value: strings.Repeat("b", 3000)}, {Key: "b3", Value: strings.Repeat("c", 3000)},
				{Key: "b4", Value: strings.Repeat("d", 3000)}, {Key: "b5", Value: strings.Repeat("e", 3000)},
				{Key: "b6", Value: strings.Repeat("f", 3000)}}
		}},
		{name: "collapsed record", setup: many},
	} {
		t.Run(c.name, func(t *testing.T) {
			segs := newSegments()
			first := testEvent(1)
			first.Outcome, first.ResultSummary = tollgate.OutcomeAuthorized, ""
			if c.setup != nil {
				c.setup(first)
			}
			second := *first
			second.Outcome, second.ResultSummary = tollgate.OutcomeExecuted, "ok: token=abcdefghijklmnop0123456789"
			second.Stage, second.ReasonCode = "execute", "X"
			if c.change != nil {
				c.change(&second)
			}
			for i, e := range []*Event{first, &second} {
				got := segs.appendRecord(nil, e, DefaultRedactor, DefaultMaxValueSize)
				want := appendRecord(nil, e, DefaultRedactor, DefaultMaxValueSize)
				if string(got) != string(want) {
					t.Fatalf("record %d differs from encoding it whole:\n got %.300s\nwant %.300s", i+1, got, want)
				}
				if !json.Valid(got) {
					t.Fatalf("record %d is not JSON", i+1)
				}
			}
			s := segs.slot(first.CorrelationID)
			if hit := first.CorrelationID != "" && !s.full && s.enc != nil; hit != c.hit {
				t.Errorf("second record used the cache: %v, want %v", hit, c.hit)
			}
		})
	}
}

// Two calls with one correlation id (a client may choose it) and
// different params: the second call's record is its own, never the cached
// encoding of the first.
func TestSegmentsReusedCorrelationID(t *testing.T) {
	segs := newSegments()
	a, b := testEvent(1), testEvent(1)
	b.ToolRequest.Params = tollgate.Params{{Key: "path", Value: "b.txt"}}
	segs.appendRecord(nil, a, DefaultRedactor, DefaultMaxValueSize)
	got := segs.appendRecord(nil, b, DefaultRedactor, DefaultMaxValueSize)
	if want := appendRecord(nil, b, DefaultRedactor, DefaultMaxValueSize); string(got) != string(want) || !strings.Contains(string(got), "b.txt") {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
