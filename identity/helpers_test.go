package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// t0 is when test tokens are minted.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// clock is a settable test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time             { return c.now }
func (c *clock) Add(d time.Duration)        { c.now = c.now.Add(d) }
func newClock(at time.Time) *clock          { return &clock{now: at} }
func fixedAt(at time.Time) func() time.Time { return func() time.Time { return at } }

// Test keys are derived from fixed seeds, so examples print stable output.
func testKey(seed byte) ed25519.PrivateKey {
	seedBytes := sha256.Sum256([]byte{seed})
	return ed25519.NewKeyFromSeed(seedBytes[:ed25519.SeedSize])
}

func kidOf(priv ed25519.PrivateKey) string { return identity.KeyID(priv.Public().(ed25519.PublicKey)) }

var (
	agentKey   = testKey(1)
	agentKID   = kidOf(agentKey)
	foreignKey = testKey(2) // a key the verifier does not hold
)

const (
	testAudience = "tickets-service"
	testIssuer   = "https://issuer.example"
)

// workerAgent is a delegated agent: orchestrator → router → worker.
func workerAgent() tollgate.Agent {
	return tollgate.Agent{
		ID: "worker-agent", Version: "2.1.0", Owner: "ops-team",
		DelegatedBy: []string{"orchestrator", "router"},
		Metadata:    tollgate.Params{{Key: "environment", Value: "prod"}, {Key: "role", Value: "support"}},
	}
}

// jwk is an Ed25519 public key as tollgate keygen writes it.
func jwk(priv ed25519.PrivateKey) map[string]string {
	pub := priv.Public().(ed25519.PublicKey)
	return map[string]string{
		"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub),
		"kid": identity.KeyID(pub), "alg": "EdDSA", "use": "sig",
	}
}

func jwksJSON(tb testing.TB, keys ...any) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// writeJWKS writes a JWKS file of keys (jwk maps or raw JSON) and returns
// its path.
func writeJWKS(tb testing.TB, keys ...any) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "agents.jwks.json")
	if err := os.WriteFile(path, jwksJSON(tb, keys...), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func testKeySet(tb testing.TB) identity.KeySet {
	tb.Helper()
	keys, err := identity.NewKeySet(identity.Key{ID: agentKID, Public: agentKey.Public()})
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// newVerifier returns a verifier of agentKey's tokens for testAudience and
// testIssuer, at now unless opts set another clock.
func newVerifier(tb testing.TB, now func() time.Time, opts ...identity.JWTOption) *identity.JWTVerifier {
	tb.Helper()
	opts = append([]identity.JWTOption{identity.WithAudience(testAudience), identity.WithIssuer(testIssuer), identity.WithClock(now)}, opts...)
	v, err := identity.NewJWTVerifier(testKeySet(tb), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// mint returns a token for a signed by agentKey at t0, for testAudience and
// testIssuer unless opts say otherwise.
func mint(tb testing.TB, a tollgate.Agent, opts ...identity.SignerOption) string {
	tb.Helper()
	opts = append([]identity.SignerOption{identity.WithAudience(testAudience), identity.WithIssuer(testIssuer), identity.WithClock(fixedAt(t0))}, opts...)
	s, err := identity.NewSigner(agentKey, agentKID, a, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := s.Token(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// bearer returns Credentials carrying token as a bearer token.
func bearer(token string) identity.Credentials {
	return identity.Credentials{Header: map[string][]string{"authorization": {"Bearer " + token}}}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw assembles a token from a header and payload as given, signed
// with priv (nil: no signature), so tests can craft what no Signer mints.
func signRaw(priv ed25519.PrivateKey, header, payload string) string {
	input := b64(header) + "." + b64(payload)
	if priv == nil {
		return input + "."
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

// payload returns a valid token payload at t0 with extra members (raw JSON
// after a comma) appended.
func payload(extra string) string {
	p := `{"iss":"` + testIssuer + `","sub":"worker-agent","aud":["` + testAudience + `"],"iat":` + unix(t0) + `,"nbf":` + unix(t0) + `,"exp":` + unix(t0.Add(5*time.Minute))
	if extra != "" {
		p += "," + extra
	}
	return p + "}"
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// edHeader is the header of an EdDSA token signed by agentKey.
var edHeader = `{"alg":"EdDSA","kid":"` + agentKID + `","typ":"JWT"}`

func decodeSegment(tb testing.TB, seg string) map[string]any {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// hs256Token signs payload with HMAC-SHA256 keyed with secret, under
// agentKID: the key-confusion attack, where the secret is the public key.
func hs256Token(tb testing.TB, secret []byte, payload string) string {
	tb.Helper()
	input := b64(`{"alg":"HS256","kid":"`+agentKID+`","typ":"JWT"}`) + "." + b64(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
