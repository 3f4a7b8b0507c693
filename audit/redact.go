package audit

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-go/tollgate"
)

// Redacted replaces the value of every key a Redactor matches.
const Redacted = "[REDACTED]"

// Redactor replaces secret-looking values with Redacted before an event is
// written or sent. It looks at every key, at any depth (objects inside
// objects and lists), of tool_request.params, tool_request.metadata,
// intent.metadata and agent.metadata, and replaces the whole value of a
// matching key. Every other string in them, and the intent reason, decision
// reason and result summary, goes through Text, which redacts secrets by
// their look (URL passwords, Bearer and Basic credentials, known token
// formats, random-looking strings) whatever their key is called. It never
// changes the caller's Params: it copies an object only when something in
// it changes, so events with nothing to redact cost no allocations.
//
// A Redactor is immutable and safe for concurrent use. A nil *Redactor
// behaves as DefaultRedactor.
type Redactor struct {
	contains [][]byte // normalised terms a key must contain
	exact    [][]byte // normalised terms a key must equal
	values   bool     // redact by value (Text) too: set unless there are no terms
}

// DefaultRedactor matches keys that equal or contain password, passwd,
// secret, token, apikey, authorization, credential, privatekey, cookie or
// session, and keys that are exactly "key" — so "DB_Password",
// "access_token", "X-Api-Key" and "Key" are redacted, "keyboard" and
// "monkey" are not. Sinks use these rules unless given WithRedactor;
// assigning another value to this variable does not change that.
var DefaultRedactor = defaultRedactor

var defaultRedactor = NewRedactor(
	"password", "passwd", "secret", "token", "apikey", "authorization",
	"credential", "privatekey", "cookie", "session", "=key",
)

// NewRedactor returns a Redactor for the given terms. Keys and terms are
// compared case-insensitively with "_" and "-" ignored. A key matches a
// term when it contains it; a term written with a leading "=" ("=key")
// matches only a key that equals it. Containment is the default because
// redacting too much is the safe mistake. Terms that are empty after
// normalisation name no key and are ignored. A Redactor with at least one
// term also redacts by value (Text), and uses its terms there to find
// name=value pairs; NewRedactor() redacts nothing at all.
func NewRedactor(terms ...string) *Redactor {
	r := &Redactor{}
	for _, t := range terms {
		exact := strings.HasPrefix(t, "=")
		n := normalizeKey(nil, strings.TrimPrefix(t, "="))
		switch {
		case len(n) == 0:
		case exact:
			r.exact = append(r.exact, n)
		default:
			r.contains = append(r.contains, n)
		}
	}
	r.values = len(r.exact)+len(r.contains) > 0
	return r
}

// Match reports whether the value under key would be redacted.
func (r *Redactor) Match(key string) bool {
	if r == nil {
		r = defaultRedactor
	}
	var buf [64]byte
	n := normalizeKey(buf[:0], key)
	for _, t := range r.exact {
		if bytes.Equal(n, t) {
			return true
		}
	}
	for _, t := range r.contains {
		if bytes.Contains(n, t) {
			return true
		}
	}
	return false
}

// Params returns p with the value of every matching key, at any depth,
// replaced by Redacted, and every other string passed through Text. It
// returns p itself when nothing matches.
func (r *Redactor) Params(p tollgate.Params) tollgate.Params {
	out, _ := r.object(p, 0)
	return out
}

// Event returns e with its params, metadata and free text redacted: e
// itself when nothing matches, otherwise a shallow copy holding the
// redacted values.
func (r *Redactor) Event(e *Event) *Event {
	if r == nil {
		r = defaultRedactor
	}
	agent, c1 := r.object(e.Agent.Metadata, 0)
	intent, c2 := r.object(e.Intent.Metadata, 0)
	params, c3 := r.object(e.ToolRequest.Params, 0)
	meta, c4 := r.object(e.ToolRequest.Metadata, 0)
	reason, c5 := r.text(e.Intent.Reason)
	decision, c6 := r.text(e.Decision.Reason)
	summary, c7 := r.text(e.ResultSummary)
	shadow, c8 := r.shadow(e.Shadow)
	config, c9 := r.config(e.Config)
	if !c1 && !c2 && !c3 && !c4 && !c5 && !c6 && !c7 && !c8 && !c9 {
		return e
	}
	out := *e
	out.Shadow = shadow
	out.Config = config
	out.Agent.Metadata = agent
	out.Intent.Metadata = intent
	out.ToolRequest.Params = params
	out.ToolRequest.Metadata = meta
	out.Intent.Reason = reason
	out.Decision.Reason = decision
	out.ResultSummary = summary
	return &out
}

// shadow redacts the candidate's decision reason as the enforced one's is.
func (r *Redactor) shadow(s *Shadow) (*Shadow, bool) {
	if s == nil {
		return nil, false
	}
	reason, c := r.text(s.Reason)
	if !c {
		return s, false
	}
	out := *s
	out.Reason = reason
	return &out, true
}

// config redacts a rejection's reason: a parse error may quote the file.
func (r *Redactor) config(c *ConfigChange) (*ConfigChange, bool) {
	if c == nil {
		return nil, false
	}
	reason, changed := r.text(c.Reason)
	if !changed {
		return c, false
	}
	out := *c
	out.Reason = reason
	return &out, true
}

// object redacts p; changed reports whether the result is a new object.
func (r *Redactor) object(p tollgate.Params, depth int) (_ tollgate.Params, changed bool) {
	var out tollgate.Params // allocated on the first change (copy on write)
	for i, f := range p {
		var v any
		var c bool
		if r.Match(f.Key) {
			v, c = Redacted, true
		} else {
			v, c = r.value(f.Value, depth+1)
		}
		if !c {
			continue
		}
		if out == nil {
			out = make(tollgate.Params, len(p))
			copy(out, p)
		}
		out[i].Value = v
	}
	if out == nil {
		return p, false
	}
	return out, true
}

// value redacts inside objects and lists. A value nested deeper than
// tollgate.MaxDepth cannot be inspected, so it is redacted whole.
func (r *Redactor) value(v any, depth int) (any, bool) {
	if depth > tollgate.MaxDepth {
		switch v.(type) {
		case tollgate.Params, []any:
			return Redacted, true
		}
		return v, false
	}
	switch t := v.(type) {
	case string:
		if out, c := r.text(t); c {
			return out, true
		}
	case tollgate.Params:
		if out, c := r.object(t, depth); c {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range t {
			ev, c := r.value(e, depth+1)
			if !c {
				continue
			}
			if out == nil {
				out = make([]any, len(t))
				copy(out, t)
			}
			out[i] = ev
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// normalizeKey appends key lower-cased, without "_" and "-", to dst. ASCII
// is folded byte by byte; other runes go through lower(upper(r)) so that
// look-alikes such as the Kelvin sign (K) or the long s (ſ) fold to the
// ASCII letter they stand for.
func normalizeKey(dst []byte, key string) []byte {
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '_' || c == '-':
			case 'A' <= c && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			default:
				dst = append(dst, c)
			}
			continue
		}
		ru, size := utf8.DecodeRuneInString(key[i:])
		i += size
		dst = utf8.AppendRune(dst, unicode.ToLower(unicode.ToUpper(ru)))
	}
	return dst
}
