package audit

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// DefaultMaxValueSize is the default WithMaxValueSize: the most bytes one
// string may take in a record, JSON escapes included.
const DefaultMaxValueSize = 4 << 10

// minMaxValueSize and maxMaxValueSize bound WithMaxValueSize: below, the
// marker that replaces a string would be longer than the string; above, the
// few dozen strings of an event might not fit in a line together.
const (
	minMaxValueSize = 256
	maxMaxValueSize = 256 << 10
)

// truncatedPrefix is how many bytes of a cut string a record keeps.
const truncatedPrefix = 64

// truncatedKey names the one member of an object a record had to leave
// out whole.
const truncatedKey = "[TRUNCATED]"

// maxRecordSize is the most an event's JSON may take, so that with the
// chain keys it always fits in MaxLineSize.
const maxRecordSize = MaxLineSize - chainOverhead

// appendRecord appends e's JSON line (without chain keys) to dst: redacted
// by r, every string over maxValue bytes (as JSON) cut to a marker, and, if
// the record is still over maxRecordSize (many small values), its largest
// objects replaced by a count of what they held. So every event — a
// refusal of a 3 MiB control-character param or of 33 MiB of params
// included — has a record. The request hash, computed by the caller from
// the full params, is written as given.
func appendRecord(dst []byte, e *Event, r *Redactor, maxValue int) []byte {
	e = bound(r.Event(e), maxValue)
	start := len(dst)
	dst = e.AppendJSON(dst)
	if len(dst)-start <= maxRecordSize {
		return dst
	}
	return collapse(e, len(dst)-start).AppendJSON(dst[:start])
}

// bound returns e with every string longer than maxValue bytes as JSON
// replaced by truncated(s): e itself when none is.
func bound(e *Event, maxValue int) *Event {
	b := bounder{max: maxValue}
	out := *e // stays on the stack unless something changes
	out.SchemaVersion = b.str(out.SchemaVersion)
	out.CorrelationID = b.str(out.CorrelationID)
	out.RequestHash = b.str(out.RequestHash)
	out.Agent.ID = b.str(out.Agent.ID)
	out.Agent.Version = b.str(out.Agent.Version)
	out.Agent.Owner = b.str(out.Agent.Owner)
	out.Intent.Action = b.str(out.Intent.Action)
	out.Intent.Reason = b.str(out.Intent.Reason)
	out.ToolRequest.Tool = b.str(out.ToolRequest.Tool)
	out.ToolRequest.Action = b.str(out.ToolRequest.Action)
	out.ToolRequest.ResourceType = b.str(out.ToolRequest.ResourceType)
	out.ToolRequest.ManifestVersion = b.str(out.ToolRequest.ManifestVersion)
	out.ToolRequest.Effect = tollgate.Effect(b.str(string(out.ToolRequest.Effect)))
	out.Decision.Type = tollgate.DecisionType(b.str(string(out.Decision.Type)))
	out.Decision.Reason = b.str(out.Decision.Reason)
	out.Decision.PolicyID = b.str(out.Decision.PolicyID)
	out.Decision.PolicyVersion = b.str(out.Decision.PolicyVersion)
	out.Outcome = tollgate.Outcome(b.str(string(out.Outcome)))
	out.ApprovalID = b.str(out.ApprovalID)
	out.GrantID = b.str(out.GrantID)
	out.ResultSummary = b.str(out.ResultSummary)
	out.PolicyVersion = b.str(out.PolicyVersion)
	out.ManifestVersion = b.str(out.ManifestVersion)
	out.Stage = tollgate.Stage(b.str(string(out.Stage)))
	out.ReasonCode = tollgate.Reason(b.str(string(out.ReasonCode)))
	out.TraceID, out.SpanID = b.str(out.TraceID), b.str(out.SpanID)
	for i, id := range e.Agent.DelegatedBy {
		if b.long(id) {
			if &out.Agent.DelegatedBy[0] == &e.Agent.DelegatedBy[0] {
				out.Agent.DelegatedBy = slices.Clone(e.Agent.DelegatedBy)
			}
			out.Agent.DelegatedBy[i] = b.str(id)
		}
	}
	out.Shadow = b.shadow(out.Shadow)
	out.Config = b.config(out.Config)
	var c [5]bool
	out.Agent.Metadata, c[0] = b.object(out.Agent.Metadata)
	out.Intent.Metadata, c[1] = b.object(out.Intent.Metadata)
	out.ToolRequest.Params, c[2] = b.object(out.ToolRequest.Params)
	out.ToolRequest.Metadata, c[3] = b.object(out.ToolRequest.Metadata)
	out.Decision.Metadata, c[4] = b.object(out.Decision.Metadata)
	if !b.changed && c == [5]bool{} {
		return e
	}
	cp := new(Event)
	*cp = out
	return cp
}

// bounder cuts long strings, copying objects and lists only on change.
type bounder struct {
	max     int
	changed bool // a top-level string was cut
}

// long reports whether s takes more than max bytes as JSON.
func (b *bounder) long(s string) bool {
	return len(s) > b.max/6 && encodedLen(s, b.max) > b.max // 6: the longest escape
}

// shadow returns s with its long strings cut: s itself when none is.
func (b *bounder) shadow(s *Shadow) *Shadow {
	if s == nil || !b.long(s.Decision) && !b.long(s.Rule) && !b.long(s.Reason) {
		return s
	}
	return &Shadow{Decision: b.str(s.Decision), Rule: b.str(s.Rule), Reason: b.str(s.Reason)}
}

// config returns c with its long strings cut: c itself when none is.
func (b *bounder) config(c *ConfigChange) *ConfigChange {
	if c == nil {
		return nil
	}
	long := b.long(c.File) || b.long(c.Reason)
	for _, f := range c.Files {
		long = long || b.long(f.Role) || b.long(f.Path) || b.long(f.SHA256)
	}
	if !long {
		return c
	}
	out := &ConfigChange{File: b.str(c.File), Line: c.Line, Reason: b.str(c.Reason), Files: slices.Clone(c.Files)}
	for i := range out.Files {
		f := &out.Files[i]
		f.Role, f.Path, f.SHA256 = b.str(f.Role), b.str(f.Path), b.str(f.SHA256)
	}
	return out
}

func (b *bounder) str(s string) string {
	if !b.long(s) {
		return s
	}
	b.changed = true
	return truncated(s)
}

func (b *bounder) object(p tollgate.Params) (tollgate.Params, bool) {
	var out tollgate.Params
	for i, f := range p {
		k, kc := f.Key, b.long(f.Key)
		if kc {
			k = truncated(k)
		}
		v, vc := b.value(f.Value)
		if !kc && !vc {
			continue
		}
		if out == nil {
			out = slices.Clone(p)
		}
		out[i] = tollgate.Field{Key: k, Value: v}
	}
	if out == nil {
		return p, false
	}
	return out, true
}

func (b *bounder) value(v any) (any, bool) {
	switch t := v.(type) {
	case string:
		if b.long(t) {
			return truncated(t), true
		}
	case tollgate.Params:
		if out, c := b.object(t); c {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range t {
			ev, c := b.value(e)
			if !c {
				continue
			}
			if out == nil {
				out = slices.Clone(t)
			}
			out[i] = ev
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// encodedLen returns how many bytes pycompat.Log writes for s (quotes
// included), counting only until it passes limit.
func encodedLen(s string, limit int) int {
	n := 2
	for i := 0; i < len(s) && n <= limit; {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
			n += 2
			i++
		case c < 0x20:
			n += 6
			i++
		case c < utf8.RuneSelf:
			n++
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				n += 6 // written as \ufffd
			default:
				n += size
			}
			i += size
		}
	}
	return n
}

// truncated is what a record holds instead of a long string s: its first
// bytes (whole runes), then its length in bytes and its SHA-256, so that
// an auditor holding the original can show it is the one recorded:
//
//	SELECT * FROM orders WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1… [TRUNCATED: 3145728 bytes, sha256:…]
//
// s has been redacted already, so the hash is not a fingerprint of a
// secret.
func truncated(s string) string {
	cut := truncatedPrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, 0, cut+100)
	out = append(out, s[:cut]...)
	out = append(out, "… [TRUNCATED: "...)
	out = strconv.AppendInt(out, int64(len(s)), 10)
	out = append(out, " bytes, sha256:"...)
	out = hex.AppendEncode(out, sum[:])
	out = append(out, ']')
	return string(out)
}

// collapse returns e, whose JSON takes total bytes, with its largest
// objects (params, metadata) and delegation chain replaced by what they held — `{"[TRUNCATED]": "N keys,
// M bytes"}` — until its JSON fits in maxRecordSize. After bound every
// string is short, so what is left without those is small.
func collapse(e *Event, total int) *Event {
	out := *e
	type part struct {
		p    *tollgate.Params
		size int
	}
	parts := []part{{p: &out.ToolRequest.Params}, {p: &out.ToolRequest.Metadata}, {p: &out.Intent.Metadata},
		{p: &out.Agent.Metadata}, {p: &out.Decision.Metadata}}
	for i := range parts {
		parts[i].size = len(pycompat.Log.AppendJSON(nil, *parts[i].p))
	}
	slices.SortFunc(parts, func(a, b part) int { return cmp.Compare(b.size, a.size) })
	for _, pt := range parts {
		if total <= maxRecordSize {
			return &out
		}
		n := len(*pt.p)
		*pt.p = tollgate.Params{{Key: truncatedKey, Value: strconv.Itoa(n) + " keys, " + strconv.Itoa(pt.size) + " bytes"}}
		total -= pt.size - len(pycompat.Log.AppendJSON(nil, *pt.p))
	}
	if total > maxRecordSize && len(out.Agent.DelegatedBy) > 0 {
		out.Agent.DelegatedBy = []string{truncatedKey + " " + strconv.Itoa(len(out.Agent.DelegatedBy)) + " agents"}
	}
	return &out
}
