package interceptor

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/tower"
)

// Header names, the same in gRPC metadata and HTTP headers (Connect,
// gRPC-Web). HTTP header names are case-insensitive; gRPC metadata keys are
// lower-case.
const (
	// HeaderAgent carries the legacy agent context as JSON: the keys
	// agent_id, version, owner (strings, required), metadata (object, with
	// Tollgate's "_signature") and delegated_by (array of strings, root
	// first). Any other key, a wrong type or bad JSON makes the header
	// malformed, and the call is refused as IDENTITY_INVALID.
	HeaderAgent = "x-tollgate-agent"
	// HeaderIntentAction and HeaderIntentReason carry the intent.
	HeaderIntentAction = "x-tollgate-intent-action"
	HeaderIntentReason = "x-tollgate-intent-reason"
	// HeaderApprovalID names an approval given earlier for a deferred call.
	HeaderApprovalID = "x-tollgate-approval-id"
	// HeaderAuthorization carries "Bearer <token>" for token verifiers.
	HeaderAuthorization = "authorization"
)

// caller is what a call's headers and transport say about who calls and
// why. It is read once per RPC; stream messages share it.
type caller struct {
	creds      identity.Credentials
	intent     tollgate.Intent
	approvalID string
	// agentErr is set when HeaderAgent is present but malformed; creds then
	// claim the zero Agent.
	agentErr error
	// stream binds the messages of a client or bidi stream to the stream's
	// verification and approval id (nil for other calls).
	stream *tower.Stream
}

// readCaller reads a caller from headers with lower-case keys. A header
// sent more than once counts as its values joined with ", ", as HTTP
// combines repeated fields: the result never matches an exact policy
// intent and is never valid agent JSON, so repetition cannot smuggle a
// second value past a check.
func (g *gate) readCaller(h map[string][]string, state *tls.ConnectionState) caller {
	c := caller{
		creds: identity.Credentials{Header: h, TLS: state},
		intent: tollgate.Intent{
			Action: headerValue(h, HeaderIntentAction),
			Reason: headerValue(h, HeaderIntentReason),
		},
		approvalID: headerValue(h, HeaderApprovalID),
	}
	if v, ok := h[HeaderAgent]; ok && len(v) > 0 {
		c.creds.Claimed, c.agentErr = g.agents.decode(headerValue(h, HeaderAgent))
	}
	return c
}

func headerValue(h map[string][]string, key string) string {
	switch v := h[key]; len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	default:
		return strings.Join(v, ", ")
	}
}

// errAgentHeader prefixes every reason an agent header is malformed.
var errAgentHeader = errors.New("malformed " + HeaderAgent + " header")

// decodeAgent parses the legacy agent JSON strictly: Tollgate's
// identity.schema.json forbids other keys, and a lenient reader here would
// let a caller pass values the verifier never looked at.
func decodeAgent(s string) (tollgate.Agent, error) {
	var a tollgate.Agent
	p, err := tollgate.ParseParams([]byte(s))
	if err != nil {
		return tollgate.Agent{}, fmt.Errorf("%w: %v", errAgentHeader, err)
	}
	seen := 0
	for _, f := range p {
		switch f.Key {
		case "agent_id", "version", "owner":
			v, ok := f.Value.(string)
			if !ok {
				return tollgate.Agent{}, fmt.Errorf("%w: %q must be a string", errAgentHeader, f.Key)
			}
			switch f.Key {
			case "agent_id":
				a.ID = v
			case "version":
				a.Version = v
			default:
				a.Owner = v
			}
			seen++
		case "metadata":
			m, ok := f.Value.(tollgate.Params)
			if !ok {
				return tollgate.Agent{}, fmt.Errorf("%w: \"metadata\" must be an object", errAgentHeader)
			}
			a.Metadata = m
		case "delegated_by":
			list, ok := f.Value.([]any)
			if !ok {
				return tollgate.Agent{}, fmt.Errorf("%w: \"delegated_by\" must be an array of strings", errAgentHeader)
			}
			chain := make([]string, len(list))
			for i, e := range list {
				if chain[i], ok = e.(string); !ok {
					return tollgate.Agent{}, fmt.Errorf("%w: \"delegated_by\" must be an array of strings", errAgentHeader)
				}
			}
			a.DelegatedBy = chain
		default:
			return tollgate.Agent{}, fmt.Errorf("%w: unknown key %q", errAgentHeader, f.Key)
		}
	}
	if seen != 3 {
		return tollgate.Agent{}, fmt.Errorf("%w: agent_id, version and owner are required", errAgentHeader)
	}
	return a, nil
}

// encodeAgent renders a as HeaderAgent's JSON, escaping everything outside
// printable ASCII, which gRPC metadata values may not contain.
func encodeAgent(a tollgate.Agent) (string, error) {
	meta := a.Metadata
	if meta == nil {
		meta = tollgate.Params{}
	}
	chain := make([]any, len(a.DelegatedBy))
	for i, d := range a.DelegatedBy {
		chain[i] = d
	}
	b, err := json.Marshal(tollgate.Params{
		{Key: "agent_id", Value: a.ID},
		{Key: "version", Value: a.Version},
		{Key: "owner", Value: a.Owner},
		{Key: "metadata", Value: meta},
		{Key: "delegated_by", Value: chain},
	})
	if err != nil {
		return "", fmt.Errorf("interceptor: encoding the agent for %s: %w", HeaderAgent, err)
	}
	return asciiJSON(b), nil
}

// asciiJSON replaces every non-ASCII rune of a JSON text with its \u escape
// (a surrogate pair above the BMP). encoding/json already escapes control
// characters; non-ASCII runes only occur inside strings, where the escape
// means the same.
func asciiJSON(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r < utf8.RuneSelf:
			sb.WriteByte(byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&sb, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	return sb.String()
}
