package identity_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

func TestJWTVerifierAccepts(t *testing.T) {
	want := workerAgent()
	token := mint(t, want)
	v := newVerifier(t, fixedAt(t0.Add(time.Minute)))

	got, err := v.Verify(context.Background(), bearer(token))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("agent = %+v, want %+v", got, want)
	}

	c, err := v.VerifyToken(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != testIssuer || !slices.Equal(c.Audience, []string{testAudience}) ||
		!c.IssuedAt.Equal(t0) || !c.NotBefore.Equal(t0) || !c.ExpiresAt.Equal(t0.Add(identity.DefaultTokenTTL)) ||
		len(c.ID) != 22 || c.KeyID != agentKID || c.Algorithm != identity.AlgEdDSA {
		t.Errorf("claims = %+v", c)
	}
}

// The chain travels as nested RFC 8693 act claims, most recent delegator
// outermost; DelegatedBy is root first.
func TestDelegationChainMapping(t *testing.T) {
	token := mint(t, workerAgent())
	claims := decodeSegment(t, strings.Split(token, ".")[1])
	wantAct := map[string]any{"sub": "router", "act": map[string]any{"sub": "orchestrator"}}
	if !reflect.DeepEqual(claims["act"], wantAct) {
		t.Errorf("act = %v, want %v", claims["act"], wantAct)
	}
	if claims["sub"] != "worker-agent" || claims["ver"] != "2.1.0" || claims["owner"] != "ops-team" {
		t.Errorf("claims = %v", claims)
	}

	v := newVerifier(t, fixedAt(t0))
	for _, tt := range []struct {
		act  string
		want []string
	}{
		{``, nil},
		{`"act":null`, nil},
		{`"act":{"sub":"root"}`, []string{"root"}},
		{`"act":{"sub":"c","act":{"sub":"b","act":{"sub":"a"}}}`, []string{"a", "b", "c"}},
		{`"act":{"act":{"sub":"a"},"sub":"b"}`, []string{"a", "b"}},
	} {
		got, err := v.Verify(context.Background(), bearer(signRaw(agentKey, edHeader, payload(tt.act))))
		if err != nil {
			t.Fatalf("%s: %v", tt.act, err)
		}
		if !slices.Equal(got.DelegatedBy, tt.want) || got.RootAgent() != append(tt.want, "worker-agent")[0] {
			t.Errorf("%s: DelegatedBy = %q, want %q", tt.act, got.DelegatedBy, tt.want)
		}
	}
}

func TestJWTVerifierES256(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := identity.NewKeySet(identity.Key{ID: "ec-1", Public: &priv.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	// A crypto.Signer that is not an *ecdsa.PrivateKey, as a KMS key is.
	s, err := identity.NewSigner(opaqueSigner{priv}, "ec-1", workerAgent(), identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h := decodeSegment(t, strings.Split(token, ".")[0]); h["alg"] != "ES256" || h["kid"] != "ec-1" {
		t.Fatalf("header = %v", h)
	}
	edOnly, err := identity.NewJWTVerifier(keys, identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edOnly.Verify(context.Background(), bearer(token)); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("ES256 accepted without WithAlgorithms: %v", err)
	}
	both, err := identity.NewJWTVerifier(keys, identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)),
		identity.WithAlgorithms(identity.AlgEdDSA, identity.AlgES256))
	if err != nil {
		t.Fatal(err)
	}
	got, err := both.Verify(context.Background(), bearer(token))
	if err != nil || got.ID != "worker-agent" {
		t.Fatalf("ES256: %+v, %v", got, err)
	}
}

type opaqueSigner struct{ k *ecdsa.PrivateKey }

func (s opaqueSigner) Public() crypto.PublicKey { return s.k.Public() }
func (s opaqueSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return s.k.Sign(r, d, o)
}

// TestJWTVerifierRefuses covers every refusal of the "Done when"
// list, and the malformed tokens around them, at unit level.
func TestJWTVerifierRefuses(t *testing.T) {
	good := mint(t, workerAgent())
	parts := strings.Split(good, ".")
	pub := agentKey.Public().(ed25519.PublicKey)
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	// tamper re-encodes the payload after f changed it, keeping the signature.
	tamper := func(f func(map[string]any)) string {
		claims := decodeSegment(t, parts[1])
		f(claims)
		return parts[0] + "." + b64(mustJSON(t, claims)) + "." + parts[2]
	}
	deepAct := strings.Repeat(`{"sub":"d","act":`, identity.MaxDelegationDepth) + `{"sub":"root"}` + strings.Repeat("}", identity.MaxDelegationDepth)
	lastSig := parts[2][len(parts[2])-1:]
	// The signature's last character carries 4 unused bits; strict
	// decoding refuses a token re-spelled there.
	respelled := parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + map[string]string{"A": "B", "Q": "R", "g": "h", "w": "x"}[lastSig]

	tests := []struct {
		name    string
		token   string
		at      time.Time // verifier clock; zero means t0
		opts    []identity.JWTOption
		wantErr error // besides identity.ErrInvalid
	}{
		{name: "expired", token: good, at: t0.Add(identity.DefaultTokenTTL + identity.DefaultSkew), wantErr: jwt.ErrTokenExpired},
		{name: "not yet valid", token: good, at: t0.Add(-identity.DefaultSkew - time.Second), wantErr: jwt.ErrTokenNotValidYet},
		{name: "issued in the future", token: signRaw(agentKey, edHeader, `{"sub":"a","aud":"`+testAudience+`","iss":"`+testIssuer+`","iat":`+unix(t0.Add(time.Hour))+`,"exp":`+unix(t0.Add(2*time.Hour))+`}`), wantErr: jwt.ErrTokenUsedBeforeIssued},
		{name: "wrong audience", token: mint(t, workerAgent(), identity.WithAudience("billing-service")), wantErr: jwt.ErrTokenInvalidAudience},
		{name: "no audience", token: signRaw(agentKey, edHeader, `{"sub":"a","iss":"`+testIssuer+`","exp":`+unix(t0.Add(time.Hour))+`}`), wantErr: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong issuer", token: mint(t, workerAgent(), identity.WithIssuer("https://evil.example")), wantErr: jwt.ErrTokenInvalidIssuer},
		{name: "foreign key under our kid", token: signRaw(foreignKey, edHeader, payload("")), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "unknown kid", token: signRaw(foreignKey, `{"alg":"EdDSA","kid":"`+identity.KeyID(foreignKey.Public().(ed25519.PublicKey))+`"}`, payload("")), wantErr: identity.ErrUnknownKey},
		{name: "no kid", token: signRaw(agentKey, `{"alg":"EdDSA"}`, payload(""))},
		{name: "kid not a string", token: signRaw(agentKey, `{"alg":"EdDSA","kid":7}`, payload(""))},
		{name: "alg none", token: signRaw(nil, `{"alg":"none","kid":"`+agentKID+`"}`, payload("")), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "alg none, no kid", token: signRaw(nil, `{"alg":"none"}`, payload(""))},
		{name: "alg missing", token: signRaw(agentKey, `{"kid":"`+agentKID+`"}`, payload(""))},
		{name: "alg unknown", token: signRaw(agentKey, `{"alg":"Ed448","kid":"`+agentKID+`"}`, payload(""))},
		{name: "HS256 keyed with the raw public key", token: hs256Token(t, pub, payload("")), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 keyed with the public key PEM", token: hs256Token(t, pubPEM, payload("")), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "ES256 alg, Ed25519 kid", token: signRaw(agentKey, `{"alg":"ES256","kid":"`+agentKID+`"}`, payload("")),
			opts: []identity.JWTOption{identity.WithAlgorithms(identity.AlgEdDSA, identity.AlgES256)}},
		{name: "tampered payload", token: tamper(func(c map[string]any) { c["sub"] = "admin-agent" }), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "tampered owner", token: tamper(func(c map[string]any) { c["owner"] = "root" }), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "tampered chain: delegator stripped", token: tamper(func(c map[string]any) { delete(c, "act") }), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "tampered chain: trusted root invented", token: tamper(func(c map[string]any) {
			c["act"] = map[string]any{"sub": "router", "act": map[string]any{"sub": "trusted-root"}}
		}), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "tampered expiry", token: tamper(func(c map[string]any) { c["exp"] = t0.Add(24 * time.Hour).Unix() }), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "signature cut", token: parts[0] + "." + parts[1] + ".", wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "signature re-spelled", token: respelled, wantErr: jwt.ErrTokenMalformed},
		{name: "padded segments", token: parts[0] + "==." + parts[1] + "." + parts[2], wantErr: jwt.ErrTokenMalformed},
		{name: "oversized", token: signRaw(agentKey, edHeader, payload(`"meta":{"pad":"`+strings.Repeat("x", identity.MaxTokenSize)+`"}`))},
		{name: "garbage", token: "not a token", wantErr: jwt.ErrTokenMalformed},
		{name: "garbage dots", token: "...", wantErr: jwt.ErrTokenMalformed},
		{name: "garbage segments", token: "a.b.c", wantErr: jwt.ErrTokenMalformed},
		{name: "two segments", token: parts[0] + "." + parts[1], wantErr: jwt.ErrTokenMalformed},
		{name: "four segments", token: good + "." + parts[2], wantErr: jwt.ErrTokenMalformed},
		{name: "header not JSON", token: b64("{") + "." + parts[1] + "." + parts[2], wantErr: jwt.ErrTokenMalformed},
		{name: "payload not an object", token: signRaw(agentKey, edHeader, `[1]`), wantErr: jwt.ErrTokenMalformed},
		{name: "exp not a number", token: signRaw(agentKey, edHeader, payload(`"exp":"tomorrow"`)), wantErr: jwt.ErrTokenMalformed},
		{name: "ver not a string", token: signRaw(agentKey, edHeader, payload(`"ver":2`)), wantErr: jwt.ErrTokenMalformed},
		{name: "no exp", token: signRaw(agentKey, edHeader, `{"sub":"a","aud":"`+testAudience+`","iss":"`+testIssuer+`"}`), wantErr: jwt.ErrTokenRequiredClaimMissing},
		{name: "empty sub", token: signRaw(agentKey, edHeader, strings.Replace(payload(""), `"sub":"worker-agent"`, `"sub":""`, 1))},
		{name: "crit header", token: signRaw(agentKey, `{"alg":"EdDSA","kid":"`+agentKID+`","crit":["exp"]}`, payload(""))},
		{name: "act member not read", token: signRaw(agentKey, edHeader, payload(`"act":{"sub":"router","iss":"https://other.example"}`))},
		{name: "act without sub", token: signRaw(agentKey, edHeader, payload(`"act":{"act":{"sub":"root"}}`))},
		{name: "act sub empty", token: signRaw(agentKey, edHeader, payload(`"act":{"sub":""}`))},
		{name: "act sub not a string", token: signRaw(agentKey, edHeader, payload(`"act":{"sub":["a"]}`))},
		{name: "act not an object", token: signRaw(agentKey, edHeader, payload(`"act":"router"`))},
		{name: "act duplicate sub", token: signRaw(agentKey, edHeader, payload(`"act":{"sub":"router","sub":"root"}`))},
		{name: "act chain too deep", token: signRaw(agentKey, edHeader, payload(`"act":`+deepAct))},
		{name: "meta carries a legacy signature", token: signRaw(agentKey, edHeader, payload(`"meta":{"_signature":"abc"}`))},
		{name: "meta duplicate key", token: signRaw(agentKey, edHeader, payload(`"meta":{"role":"a","role":"admin"}`))},
		{name: "meta not an object", token: signRaw(agentKey, edHeader, payload(`"meta":[1]`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = t0
			}
			v := newVerifier(t, fixedAt(at), tt.opts...)
			got, err := v.Verify(context.Background(), bearer(tt.token))
			t.Log(err)
			if !errors.Is(err, identity.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tollgate.Agent{}) {
				t.Errorf("refused token returned agent %+v", got)
			}
		})
	}
}

// Right at the edges of the skew window the token is still accepted.
func TestJWTVerifierSkew(t *testing.T) {
	token := mint(t, workerAgent())
	exp := t0.Add(identity.DefaultTokenTTL)
	for _, tt := range []struct {
		name string
		at   time.Time
		skew time.Duration
		ok   bool
	}{
		{"before nbf within default skew", t0.Add(-identity.DefaultSkew), identity.DefaultSkew, true},
		{"after exp within default skew", exp.Add(identity.DefaultSkew - time.Second), identity.DefaultSkew, true},
		{"at exp without skew", exp, 0, false},
		{"just before exp without skew", exp.Add(-time.Second), 0, true},
		{"before nbf without skew", t0.Add(-time.Second), 0, false},
		{"after exp with a larger skew", exp.Add(time.Minute), 2 * time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, fixedAt(tt.at), identity.WithSkew(tt.skew), identity.WithTokenCacheSize(0))
			_, err := v.Verify(context.Background(), bearer(token))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok = %v", err, tt.ok)
			}
		})
	}
}

func TestJWTVerifierAuthorizationHeader(t *testing.T) {
	token := mint(t, workerAgent())
	v := newVerifier(t, fixedAt(t0))
	for _, tt := range []struct {
		name   string
		header map[string][]string
		want   error // nil: accepted
	}{
		{"bearer", map[string][]string{"authorization": {"Bearer " + token}}, nil},
		{"scheme is case-insensitive", map[string][]string{"authorization": {"bEaReR " + token}}, nil},
		{"extra spaces", map[string][]string{"authorization": {"Bearer   " + token}}, nil},
		{"no headers", nil, identity.ErrNoCredentials},
		{"other headers only", map[string][]string{"x-tollgate-agent": {`{"agent_id":"admin"}`}}, identity.ErrNoCredentials},
		{"basic scheme", map[string][]string{"authorization": {"Basic dXNlcjpwYXNz"}}, identity.ErrNoCredentials},
		{"token without scheme", map[string][]string{"authorization": {token}}, identity.ErrNoCredentials},
		{"empty bearer", map[string][]string{"authorization": {"Bearer "}}, identity.ErrInvalid},
		{"sent twice", map[string][]string{"authorization": {"Bearer " + token, "Bearer " + token}}, identity.ErrInvalid},
		{"upper-case key is not read", map[string][]string{"Authorization": {"Bearer " + token}}, identity.ErrNoCredentials},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), identity.Credentials{Header: tt.header})
			if tt.want == nil {
				if err != nil || got.ID != "worker-agent" {
					t.Fatalf("%+v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// The claimed agent (from an agent header) never overrides the token.
func TestJWTVerifierIgnoresClaimedAgent(t *testing.T) {
	c := bearer(mint(t, workerAgent()))
	c.Claimed = tollgate.Agent{ID: "admin-agent", Owner: "root", DelegatedBy: []string{}}
	got, err := newVerifier(t, fixedAt(t0)).Verify(context.Background(), c)
	if err != nil || got.ID != "worker-agent" || got.Owner != "ops-team" || len(got.DelegatedBy) != 2 {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestJWTVerifierAcceptsMaxSizeToken(t *testing.T) {
	empty := signRaw(agentKey, edHeader, payload(`"meta":{"pad":""}`))
	// Each 3 payload bytes become 4 token characters.
	pad := strings.Repeat("x", (identity.MaxTokenSize-len(empty))*3/4)
	token := signRaw(agentKey, edHeader, payload(`"meta":{"pad":"`+pad+`"}`))
	if len(token) > identity.MaxTokenSize || len(token) < identity.MaxTokenSize-4 {
		t.Fatalf("token is %d bytes, want just under %d", len(token), identity.MaxTokenSize)
	}
	if _, err := newVerifier(t, fixedAt(t0)).Verify(context.Background(), bearer(token)); err != nil {
		t.Fatal(err)
	}
}

func TestNewJWTVerifierRefusesBadConfig(t *testing.T) {
	keys := testKeySet(t)
	aud := identity.WithAudience(testAudience)
	for _, tt := range []struct {
		name string
		keys identity.KeySet
		opts []identity.JWTOption
		want string
	}{
		{"no key set", nil, []identity.JWTOption{aud}, "KeySet"},
		{"no audience", keys, nil, "WithAudience"},
		{"empty audience", keys, []identity.JWTOption{identity.WithAudience("")}, "empty"},
		{"both audience options", keys, []identity.JWTOption{aud, identity.WithAnyAudience()}, "contradict"},
		{"HS256", keys, []identity.JWTOption{aud, identity.WithAlgorithms("HS256")}, `"HS256" is not supported`},
		{"none", keys, []identity.JWTOption{aud, identity.WithAlgorithms("none")}, `"none" is not supported`},
		{"RS256", keys, []identity.JWTOption{aud, identity.WithAlgorithms(identity.AlgEdDSA, "RS256")}, `"RS256" is not supported`},
		{"no algorithms", keys, []identity.JWTOption{aud, identity.WithAlgorithms()}, "at least one"},
		{"negative skew", keys, []identity.JWTOption{aud, identity.WithSkew(-time.Second)}, "negative"},
		{"negative cache", keys, []identity.JWTOption{aud, identity.WithTokenCacheSize(-1)}, "negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := identity.NewJWTVerifier(tt.keys, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || v != nil {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestJWTVerifierAnyAudience(t *testing.T) {
	v, err := identity.NewJWTVerifier(testKeySet(t), identity.WithAnyAudience(), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.VerifyToken(context.Background(), mint(t, workerAgent(), identity.WithAudience("billing-service")))
	if err != nil || !slices.Equal(c.Audience, []string{"billing-service"}) {
		t.Fatalf("%+v, %v", c, err)
	}
}

// A key set that cannot answer refuses the call without blaming the
// caller's token.
func TestJWTVerifierKeySetFailure(t *testing.T) {
	down := errors.New("key server down")
	v, err := identity.NewJWTVerifier(identity.KeySetFunc(func(context.Context, string) (identity.Key, error) {
		return identity.Key{}, down
	}), identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), bearer(mint(t, workerAgent())))
	if !errors.Is(err, down) || errors.Is(err, identity.ErrInvalid) || errors.Is(err, identity.ErrNoCredentials) {
		t.Fatalf("err = %v, want the key set's error only", err)
	}
}

func TestJWTVerifierKeyRotation(t *testing.T) {
	next := testKey(3)
	path := writeJWKS(t, jwk(agentKey), jwk(next))
	keys, err := identity.NewJWKSFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewJWTVerifier(keys, identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	nextKID := identity.KeyID(next.Public().(ed25519.PublicKey))
	s, err := identity.NewSigner(next, nextKID, workerAgent(), identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	newTok, _ := s.Token(context.Background())
	oldTok := mint(t, workerAgent())
	for _, tok := range []string{oldTok, newTok} {
		if _, err := v.Verify(context.Background(), bearer(tok)); err != nil {
			t.Fatalf("during rotation: %v", err)
		}
	}
	// Retire the old key: its tokens are refused at once, cached or not.
	if err := writeFile(path, jwksJSON(t, jwk(next))); err != nil {
		t.Fatal(err)
	}
	if err := keys.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), bearer(oldTok)); !errors.Is(err, identity.ErrUnknownKey) {
		t.Fatalf("retired key: err = %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(context.Background(), bearer(newTok)); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
}

// Only sub, aud and exp are required; absent times read as zero.
func TestJWTVerifierMinimalToken(t *testing.T) {
	v, err := identity.NewJWTVerifier(testKeySet(t), identity.WithAudience(testAudience), identity.WithClock(fixedAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.VerifyToken(context.Background(), signRaw(agentKey, edHeader, `{"sub":"a","aud":"`+testAudience+`","exp":`+unix(t0.Add(time.Minute))+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.ID != "a" || !c.IssuedAt.IsZero() || !c.NotBefore.IsZero() || c.ID != "" || c.Issuer != "" || c.Agent.DelegatedBy != nil || c.Agent.Metadata != nil {
		t.Fatalf("claims = %+v", c)
	}
}
