package killswitch

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a kill switch stops.
type Kind string

// The kinds of scope, as written before the colon of a scope string.
const (
	// KindGlobal stops every call, before its credentials are verified.
	KindGlobal Kind = "global"
	// KindAgent stops calls by an agent, or delegated by it: the scope's
	// value is compared with the verified agent's id and with every id in
	// its delegation chain.
	KindAgent Kind = "agent"
	// KindTool stops calls of a tool. The value is a tool name, or a
	// prefix ending in "*" ("mcp:*"; "*" alone is every tool), as grants
	// and rate limits match tools.
	KindTool Kind = "tool"
	// KindSession stops calls made with tokens of one session: the value is
	// compared with the verified token's "sid" claim (Agent.SessionID).
	KindSession Kind = "session"
)

// MaxValueLen bounds a scope's value, in bytes: agent ids, tool names and
// session ids are short, and a bounded value keeps listings and logs sane.
const MaxValueLen = 512

// Scope is what one switch stops: a Kind and, except for KindGlobal, a
// value. Its text form is "global", "agent:ID", "tool:PATTERN" or
// "session:SID" (ParseScope, String).
type Scope struct {
	Kind  Kind
	Value string
}

// Global returns the scope that stops everything.
func Global() Scope { return Scope{Kind: KindGlobal} }

// Agent returns the scope that stops agent id and the calls it delegates.
func Agent(id string) Scope { return Scope{Kind: KindAgent, Value: id} }

// Tool returns the scope that stops the tools pattern matches.
func Tool(pattern string) Scope { return Scope{Kind: KindTool, Value: pattern} }

// Session returns the scope that stops the tokens of session sid.
func Session(sid string) Scope { return Scope{Kind: KindSession, Value: sid} }

// ErrInvalidScope is wrapped by every error ParseScope and Scope.Validate
// return.
var ErrInvalidScope = errors.New("killswitch: invalid scope")

// ParseScope reads a scope's text form: "global", "agent:ID",
// "tool:PATTERN" or "session:SID". The kind is lower-case; the value is
// everything after the first colon, taken as written (agent ids may hold
// colons).
func ParseScope(s string) (Scope, error) {
	if s == string(KindGlobal) {
		return Global(), nil
	}
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		return Scope{}, fmt.Errorf("%w %q: want global, agent:ID, tool:PATTERN or session:SID", ErrInvalidScope, clipped(s))
	}
	sc := Scope{Kind: Kind(kind), Value: value}
	if sc.Kind == KindGlobal {
		return Scope{}, fmt.Errorf("%w: global takes no value (got %q)", ErrInvalidScope, clipped(s))
	}
	if err := sc.Validate(); err != nil {
		return Scope{}, err
	}
	return sc, nil
}

// Validate reports a scope that could never be meant: an unknown kind, a
// global scope with a value, an empty value, one longer than MaxValueLen,
// not UTF-8 or holding control characters, or a tool pattern with "*"
// anywhere but at its end.
func (s Scope) Validate() error {
	switch s.Kind {
	case KindGlobal:
		if s.Value != "" {
			return fmt.Errorf("%w: global takes no value (got %q)", ErrInvalidScope, clipped(s.Value))
		}
		return nil
	case KindAgent, KindTool, KindSession:
	default:
		return fmt.Errorf("%w: kind %q: want global, agent, tool or session", ErrInvalidScope, clipped(string(s.Kind)))
	}
	switch {
	case s.Value == "":
		return fmt.Errorf("%w: %s needs a value (%s:VALUE)", ErrInvalidScope, s.Kind, s.Kind)
	case len(s.Value) > MaxValueLen:
		return fmt.Errorf("%w: %s value is %d bytes, over the %d-byte limit", ErrInvalidScope, s.Kind, len(s.Value), MaxValueLen)
	case !utf8.ValidString(s.Value) || strings.ContainsFunc(s.Value, unicode.IsControl):
		return fmt.Errorf("%w: %s value %q is not UTF-8 text without control characters", ErrInvalidScope, s.Kind, clipped(s.Value))
	case s.Kind == KindTool && strings.Contains(strings.TrimSuffix(s.Value, "*"), "*"):
		return fmt.Errorf(`%w: tool pattern %q: "*" may only end it ("mcp:*"), as in grants and rate limits`, ErrInvalidScope, s.Value)
	}
	return nil
}

// String returns the scope's text form, which ParseScope reads back.
func (s Scope) String() string {
	if s.Kind == KindGlobal {
		return string(KindGlobal)
	}
	return string(s.Kind) + ":" + s.Value
}

// clipped shortens text quoted in an error message.
func clipped(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
