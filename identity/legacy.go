package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"sync"

	"github.com/tollgate-go/tollgate"
)

// LegacySignatureKey is the agent metadata key that carries Tollgate's HMAC
// signature.
const LegacySignatureKey = "_signature"

// legacyHexLen is the length of a hex-encoded SHA-256 MAC.
const legacyHexLen = 2 * sha256.Size

// legacySeparator joins agent_id, version and owner in the signed message.
const legacySeparator = "|"

// errEmptySecret is a server misconfiguration, not a caller mistake, so it
// wraps neither sentinel.
var errEmptySecret = errors.New("identity: legacy HMAC secret is empty; configure the agent signing key")

// NewLegacyHMAC returns a Verifier for Tollgate 1.4.0 agent signatures: the
// lower-case hex HMAC-SHA256, keyed with secret, of
// "agent_id|version|owner", found in Claimed.Metadata["_signature"]. The
// comparison is constant-time and case-sensitive, as in Tollgate.
//
// The returned Agent is the claimed one without "_signature" in its
// Metadata, so the signature is never audited (Tollgate logged it, which let
// anyone who could read the log replay the identity).
//
// Differences from Tollgate, all failing closed:
//   - an agent_id, version or owner containing "|" is refused, because
//     ("a|b", "c", o) and ("a", "b|c", o) sign the same message;
//   - an empty agent_id is refused;
//   - a signature that is not a string, is empty, or holds non-ASCII text
//     is ErrInvalid (Tollgate raised a type error on non-ASCII text);
//   - a missing signature is ErrNoCredentials, so that Chain can hand the
//     call to the next verifier; on its own it still refuses the call;
//   - an empty secret refuses every call.
//
// This scheme is weak and exists for migration only: the signature never
// expires, it does not cover Metadata or DelegatedBy (a caller may add or
// strip delegators freely), and anyone holding the secret can mint any
// identity. Prefer a token or mTLS verifier for new agents.
func NewLegacyHMAC(secret []byte) Verifier {
	key := slices.Clone(secret)
	v := &legacyHMAC{emptyKey: len(key) == 0}
	v.macs.New = func() any { return &legacyState{mac: hmac.New(sha256.New, key)} }
	return v
}

type legacyHMAC struct {
	emptyKey bool
	// macs pools *legacyState; hmac.New re-derives the pads each time,
	// which dominates the cost of a verification.
	macs sync.Pool
}

// legacyState is a keyed HMAC with the buffers a verification writes, kept
// together so a verification allocates nothing: the message and sum would
// escape through the hash.Hash interface if they lived on the stack.
type legacyState struct {
	mac hash.Hash
	msg []byte
	sum [sha256.Size]byte
}

func (v *legacyHMAC) Verify(_ context.Context, c Credentials) (tollgate.Agent, error) {
	if v.emptyKey {
		return tollgate.Agent{}, errEmptySecret
	}
	a := c.Claimed
	raw, ok := a.Metadata.Get(LegacySignatureKey)
	if !ok {
		return tollgate.Agent{}, fmt.Errorf("%w: agent metadata has no %q", ErrNoCredentials, LegacySignatureKey)
	}
	sig, ok := raw.(string)
	if !ok {
		return tollgate.Agent{}, fmt.Errorf("%w: %s must be a string, got %T", ErrInvalid, LegacySignatureKey, raw)
	}
	if sig == "" {
		return tollgate.Agent{}, fmt.Errorf("%w: %s is empty", ErrInvalid, LegacySignatureKey)
	}
	if err := checkLegacyFields(a); err != nil {
		return tollgate.Agent{}, err
	}
	st := v.macs.Get().(*legacyState)
	want := st.sign(a)
	v.macs.Put(st)
	// hmac.Equal compares bytes, so a non-ASCII signature is simply unequal.
	if !hmac.Equal([]byte(sig), want[:]) {
		return tollgate.Agent{}, fmt.Errorf("%w: legacy signature does not match agent %q", ErrInvalid, a.ID)
	}
	return withoutSignature(a), nil
}

// checkLegacyFields refuses agents whose signed message is ambiguous or
// meaningless.
func checkLegacyFields(a tollgate.Agent) error {
	if a.ID == "" {
		return fmt.Errorf("%w: agent_id is empty", ErrInvalid)
	}
	for _, f := range [...]struct{ name, value string }{{"agent_id", a.ID}, {"version", a.Version}, {"owner", a.Owner}} {
		if strings.Contains(f.value, legacySeparator) {
			return fmt.Errorf("%w: %s %q contains %q, which makes the legacy signature ambiguous", ErrInvalid, f.name, f.value, legacySeparator)
		}
	}
	return nil
}

// sign resets the HMAC-SHA256 (keyed with the secret) and returns the
// lower-case hex signature of "agent_id|version|owner".
func (st *legacyState) sign(a tollgate.Agent) [legacyHexLen]byte {
	msg := append(st.msg[:0], a.ID...)
	msg = append(msg, legacySeparator...)
	msg = append(msg, a.Version...)
	msg = append(msg, legacySeparator...)
	msg = append(msg, a.Owner...)
	if cap(msg) <= maxPooledLegacyMsg {
		st.msg = msg
	}
	st.mac.Reset()
	st.mac.Write(msg)
	var out [legacyHexLen]byte
	hex.Encode(out[:], st.mac.Sum(st.sum[:0]))
	return out
}

// maxPooledLegacyMsg bounds the message buffer a pooled state keeps, so one
// huge agent id does not pin its size.
const maxPooledLegacyMsg = 1 << 10

// withoutSignature returns a copy of a that shares no slices with it and has
// no signature in its Metadata.
func withoutSignature(a tollgate.Agent) tollgate.Agent {
	if len(a.Metadata) == 1 {
		// Only the signature (Verify found it): an empty Params with no
		// capacity shares nothing writable, and costs no allocation.
		a.Metadata = a.Metadata[:0:0]
	} else {
		a.Metadata = a.Metadata.Without(LegacySignatureKey)
	}
	a.DelegatedBy = slices.Clone(a.DelegatedBy)
	return a
}

// SignLegacy returns a copy of a whose Metadata carries the Tollgate 1.4.0
// signature under "_signature" (replacing any previous one, in place). It
// is the agent-side half of NewLegacyHMAC, for tests and for migrating
// agents. An agent whose fields contain "|" is still signed, as Tollgate
// would, but NewLegacyHMAC refuses it.
func SignLegacy(a tollgate.Agent, secret []byte) tollgate.Agent {
	sig := (&legacyState{mac: hmac.New(sha256.New, secret)}).sign(a)
	a.Metadata = slices.Clone(a.Metadata)
	a.Metadata.Set(LegacySignatureKey, string(sig[:]))
	a.DelegatedBy = slices.Clone(a.DelegatedBy)
	return a
}
