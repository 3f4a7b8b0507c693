package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
)

// Token limits. Both bound the work an unauthenticated caller can cause
// before the signature is checked.
const (
	// MaxTokenSize is the largest token accepted, in bytes.
	MaxTokenSize = 16 << 10
	// MaxDelegationDepth is the longest delegation chain a token may carry.
	MaxDelegationDepth = 32
)

// Claims is what a verified agent token says. The mapping to JWT claims is:
//
//	iss    Issuer            sub    Agent.ID
//	aud    Audience          ver    Agent.Version
//	exp    ExpiresAt         owner  Agent.Owner
//	nbf    NotBefore         meta   Agent.Metadata (JSON object)
//	iat    IssuedAt          act    Agent.DelegatedBy (nested, see below)
//	jti    ID                sid    Agent.SessionID
//
// The delegation chain uses RFC 8693's nested "act" claims, most recent
// first: the outermost act names the agent that delegated directly to sub,
// and the innermost act names the root. Tollgate's DelegatedBy is root
// first, so it is the act chain read from the inside out:
//
//	{"sub": "worker", "act": {"sub": "router", "act": {"sub": "orchestrator"}}}
//	→ Agent{ID: "worker", DelegatedBy: ["orchestrator", "router"]}
//
// Each act object holds exactly "sub" (a non-empty string) and optionally
// "act"; any other member is refused rather than ignored, because a chain
// entry qualified by a member Tollgate does not read (such as its own
// "iss") would name a different identity than the one policy sees.
type Claims struct {
	Agent     tollgate.Agent
	Issuer    string
	Audience  []string
	ExpiresAt time.Time
	NotBefore time.Time // zero when the token has no "nbf"
	IssuedAt  time.Time // zero when the token has no "iat"
	ID        string    // "jti", empty when absent
	KeyID     string    // the "kid" of the key that signed the token
	Algorithm string    // "EdDSA" or "ES256"
}

// tokenClaims is the JSON form of an agent token's payload, as a Signer
// writes it. The verifier never decodes into it: decodeClaims reads a
// payload strictly.
type tokenClaims struct {
	jwt.RegisteredClaims
	Version string          `json:"ver,omitempty"`
	Owner   string          `json:"owner,omitempty"`
	Session string          `json:"sid,omitempty"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	Act     json.RawMessage `json:"act,omitempty"`
}

// actClaim is one RFC 8693 actor: who delegated, and who delegated to them.
// It is only written; parseActChain reads the chain.
type actClaim struct {
	Sub string    `json:"sub"`
	Act *actClaim `json:"act,omitempty"`
}

// actChain returns the nested act claim for a root-first delegation chain,
// or nil for a direct call.
func actChain(delegatedBy []string) *actClaim {
	var act *actClaim
	for _, d := range delegatedBy {
		act = &actClaim{Sub: d, Act: act}
	}
	return act
}

// parseActChain returns the root-first chain of a decoded act claim
// (absent or null: a direct call).
func parseActChain(v any) ([]string, error) {
	var chain []string
	for v != nil {
		obj, ok := v.(tollgate.Params)
		if !ok {
			return nil, fmt.Errorf("act claim: %s, want an object", jsonKind(v))
		}
		if len(chain) == MaxDelegationDepth {
			return nil, fmt.Errorf("delegation chain is longer than %d", MaxDelegationDepth)
		}
		var sub string
		v = nil
		for _, f := range obj {
			switch f.Key {
			case "sub":
				sub, _ = f.Value.(string)
			case "act":
				v = f.Value
			default:
				return nil, fmt.Errorf("act claim: unknown member %q (only sub and act are read)", f.Key)
			}
		}
		if sub == "" {
			return nil, errors.New(`act claim: "sub" must be a non-empty string`)
		}
		chain = append(chain, sub)
	}
	slices.Reverse(chain)
	return chain, nil
}

// parseMeta returns a decoded meta claim (absent or null: no metadata).
func parseMeta(v any) (tollgate.Params, error) {
	if v == nil {
		return nil, nil
	}
	p, ok := v.(tollgate.Params)
	if !ok {
		return nil, fmt.Errorf("meta claim: %s, want an object", jsonKind(v))
	}
	return p, nil
}

// checkAgent refuses what a token must not say about its agent, on both
// the signing and the verifying side.
func checkAgent(a tollgate.Agent) error {
	if a.ID == "" {
		return errors.New(`agent id ("sub") is empty`)
	}
	if len(a.DelegatedBy) > MaxDelegationDepth {
		return fmt.Errorf("delegation chain is longer than %d", MaxDelegationDepth)
	}
	if slices.Contains(a.DelegatedBy, "") {
		return errors.New("delegation chain has an empty agent id")
	}
	if _, ok := a.Metadata.Get(LegacySignatureKey); ok {
		return fmt.Errorf("metadata carries %q: a token needs no legacy signature", LegacySignatureKey)
	}
	return nil
}
