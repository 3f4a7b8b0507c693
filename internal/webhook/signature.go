package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a delivery's signed timestamp may be from the
// receiver's clock, as Stripe's receivers allow by default: long enough
// for retries (at most about 15 s of backoff) and clock skew, short enough
// that a captured delivery cannot be replayed later.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify; each is wrapped with details.
var (
	// ErrNoSignature: the header is empty, or has no v1 signature.
	ErrNoSignature = errors.New("webhook: no signature")
	// ErrMalformedSignature: the header is not t=<unix seconds>,v1=<hex>.
	ErrMalformedSignature = errors.New("webhook: malformed signature header")
	// ErrSignatureMismatch: no v1 signature matches the body and timestamp
	// under the secret — a forged or altered delivery, a replay with a
	// changed timestamp, or a different secret.
	ErrSignatureMismatch = errors.New("webhook: signature does not match")
	// ErrStale: the signature is valid but its timestamp is outside the
	// tolerance — a replay of an old delivery, or a clock far off.
	ErrStale = errors.New("webhook: signature timestamp outside the tolerance")
)

// maxSignatureHeader bounds the header Verify parses: a real one is about
// 80 bytes, a few signatures during a secret rotation a few hundred.
const maxSignatureHeader = 4096

// Sign returns the HeaderSignature value for body sent at t:
// "t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under secret>",
// the scheme Stripe-style receivers expect. The timestamp is inside the
// MAC, so a captured delivery cannot be given a fresh timestamp; Verify
// then bounds its age.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// mac is HMAC-SHA256 of "<ts>.<body>" under secret.
func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify is the receiver's check of a delivery: header is the
// HeaderSignature value, body the raw request body (before any JSON
// decoding), now the receiver's clock. It accepts when a v1 signature
// matches "<t>.<body>" under secret and t is within tolerance of now, in
// either direction. Several v1 signatures are accepted (any may match, for
// a secret rotation); unknown keys are ignored, as Stripe's receivers do,
// so that a later scheme can be added beside v1. A tolerance that is not
// positive is refused: a receiver without a window accepts replays forever.
func Verify(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return errors.New("webhook: Verify: the secret must not be empty")
	}
	if tolerance <= 0 {
		return fmt.Errorf("webhook: Verify: tolerance %v must be positive", tolerance)
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		// Every candidate is compared, in constant time, so that timing
		// does not tell which one (or which byte) was wrong.
		matched = hmac.Equal(s, want) || matched
	}
	if !matched {
		return ErrSignatureMismatch
	}
	sec, _ := strconv.ParseInt(ts, 10, 64) // parseSignature checked it
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %v from now (tolerance %v)", ErrStale,
			time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second), tolerance)
	}
	return nil
}

// parseSignature splits "t=<digits>,v1=<hex>[,v1=<hex>]..." into the
// timestamp as sent and the decoded v1 signatures.
func parseSignature(header string) (ts string, sigs [][]byte, err error) {
	if strings.TrimSpace(header) == "" {
		return "", nil, ErrNoSignature
	}
	if len(header) > maxSignatureHeader {
		return "", nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformedSignature, len(header), maxSignatureHeader)
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: %q is not key=value", ErrMalformedSignature, part)
		}
		switch k {
		case "t":
			if seenT {
				return "", nil, fmt.Errorf("%w: more than one t=", ErrMalformedSignature)
			}
			if !isUnixSeconds(v) {
				return "", nil, fmt.Errorf("%w: t=%q is not Unix seconds", ErrMalformedSignature, v)
			}
			ts, seenT = v, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, fmt.Errorf("%w: v1 is not %d hex digits", ErrMalformedSignature, 2*sha256.Size)
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case !seenT:
		return "", nil, fmt.Errorf("%w: no t=", ErrMalformedSignature)
	case len(sigs) == 0:
		// A legacy "sha256=<hex>" header lands here: it signs no timestamp.
		return "", nil, fmt.Errorf("%w: no v1= (a signature over the timestamp and body)", ErrNoSignature)
	}
	return ts, sigs, nil
}

// isUnixSeconds reports whether s is 1 to 18 decimal digits: no sign, no
// spaces, and small enough that time.Unix cannot overflow. The signer
// writes t exactly like this, so anything else is not its header.
func isUnixSeconds(s string) bool {
	if len(s) == 0 || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
