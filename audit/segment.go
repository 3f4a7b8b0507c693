package audit

import (
	"hash/maphash"
	"slices"
	"sync"
	"unsafe"

	"github.com/tollgate-go/tollgate"
)

// segments remembers the encoded request part (appendRequest: agent,
// intent, tool request — redacted and bounded) of recent events, so that a
// call's outcome record reuses what its "authorized" record encoded
// instead of redacting and encoding the same request again.
//
// An entry is found by correlation id and used only when the new event's
// agent, intent and tool request are the same values: equal strings, and
// params, metadata and delegation lists that are the very same slices. The
// entry holds those slices, so their memory cannot be reused for another
// request while it is cached. A caller that changes a params value in
// place between a call's two records gets the first encoding in both; the
// tower never does.
type segments struct {
	seed  maphash.Seed
	slots [segmentSlots]segment
}

// segmentSlots bounds the cache: enough for the calls in flight between
// their two records on a busy server; a collision only costs an encoding.
const segmentSlots = 256

// maxSegment is the largest encoding kept, so the cache stays small.
const maxSegment = 16 << 10

type segment struct {
	mu     sync.Mutex
	corrID string
	agent  tollgate.Agent
	intent tollgate.Intent
	req    tollgate.ToolRequest
	enc    []byte
	full   bool
}

func newSegments() *segments { return &segments{seed: maphash.MakeSeed()} }

func (c *segments) slot(corrID string) *segment {
	return &c.slots[maphash.String(c.seed, corrID)%segmentSlots]
}

// appendCached appends e's cached request encoding to dst and empties its
// slot (a call has two records); ok is false when there is none.
func (c *segments) appendCached(dst []byte, e *Event) (_ []byte, ok bool) {
	if e.CorrelationID == "" {
		return dst, false
	}
	s := c.slot(e.CorrelationID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full || s.corrID != e.CorrelationID || !sameRequest(s, e) {
		return dst, false
	}
	dst = append(dst, s.enc...)
	s.clear()
	return dst, true
}

// appendRecord appends e's record as appendRecord does — redacted by r,
// bounded to maxValue — taking the request part from the cache when a
// record of the same call put it there, and caching it otherwise.
func (c *segments) appendRecord(dst []byte, e *Event, r *Redactor, maxValue int) []byte {
	if e.Kind != "" { // no request part to share
		return appendRecord(dst, e, r, maxValue)
	}
	start := len(dst)
	rest := *e // the event without its request part: nothing there to redact or bound
	rest.Agent, rest.Intent, rest.ToolRequest = tollgate.Agent{}, tollgate.Intent{}, tollgate.ToolRequest{}
	b := bound(r.Event(&rest), maxValue)
	dst = b.appendHead(dst)
	if dst, ok := c.appendCached(dst, e); ok {
		if dst = b.appendTail(dst); len(dst)-start <= maxRecordSize {
			return dst
		}
		return appendRecord(dst[:start], e, r, maxValue)
	}
	req := Event{Agent: e.Agent, Intent: e.Intent, ToolRequest: e.ToolRequest}
	from := len(dst)
	dst = bound(r.Event(&req), maxValue).appendRequest(dst)
	to := len(dst)
	if dst = b.appendTail(dst); len(dst)-start > maxRecordSize {
		return appendRecord(dst[:start], e, r, maxValue) // collapses objects: not cached
	}
	c.store(e, dst[from:to])
	return dst
}

// store caches enc, e's request encoding.
func (c *segments) store(e *Event, enc []byte) {
	if e.CorrelationID == "" || len(enc) > maxSegment {
		return
	}
	s := c.slot(e.CorrelationID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrID, s.agent, s.intent, s.req = e.CorrelationID, e.Agent, e.Intent, e.ToolRequest
	s.enc = append(s.enc[:0], enc...)
	s.full = true
}

// clear empties the slot, keeping its buffer.
func (s *segment) clear() {
	s.corrID, s.agent, s.intent, s.req = "", tollgate.Agent{}, tollgate.Intent{}, tollgate.ToolRequest{}
	s.full = false
}

// sameRequest reports whether e's request part is the one cached in s.
func sameRequest(s *segment, e *Event) bool {
	a, b := &s.agent, &e.Agent
	if a.ID != b.ID || a.Version != b.Version || a.Owner != b.Owner ||
		!sameParams(a.Metadata, b.Metadata) || !slices.Equal(a.DelegatedBy, b.DelegatedBy) {
		return false
	}
	i, j := &s.intent, &e.Intent
	if i.Action != j.Action || i.Reason != j.Reason || !sameParams(i.Metadata, j.Metadata) ||
		(i.Confidence == nil) != (j.Confidence == nil) || i.Confidence != nil && *i.Confidence != *j.Confidence {
		return false
	}
	r, q := &s.req, &e.ToolRequest
	return r.Tool == q.Tool && r.Action == q.Action && r.ResourceType == q.ResourceType &&
		r.Effect == q.Effect && r.ManifestVersion == q.ManifestVersion &&
		sameParams(r.Params, q.Params) && sameParams(r.Metadata, q.Metadata)
}

// sameParams reports whether p and q are the same slice (not merely equal:
// comparing values in depth would cost what encoding costs).
func sameParams(p, q tollgate.Params) bool {
	return len(p) == len(q) && unsafe.SliceData(p) == unsafe.SliceData(q)
}
