package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/identity"
)

// FuzzParseToken feeds arbitrary bearer tokens to a verifier (with its
// cache, so lookups and inserts are exercised too). It must never panic,
// must only fail with ErrInvalid or ErrNoCredentials, and must accept
// nothing but the tokens the test itself signed.
func FuzzParseToken(f *testing.F) {
	// Seeds are signed deterministically (Ed25519 is, a Signer's random
	// jti is not): the fuzzing workers must agree on which tokens are valid.
	good := signRaw(agentKey, edHeader, payload(`"jti":"j-1","ver":"2.1.0","owner":"ops-team","act":{"sub":"router"}`))
	parts := strings.Split(good, ".")
	signed := []string{
		good,
		signRaw(agentKey, edHeader, payload(`"act":{"sub":"c","act":{"sub":"b","act":{"sub":"a"}}}`)),
		signRaw(agentKey, edHeader, payload(`"meta":{"environment":"prod","tags":["a",{"b":1.5e300}]}`)),
	}
	valid := map[string]bool{}
	for _, s := range signed {
		valid[s] = true
		f.Add(s)
	}
	for _, s := range []string{
		"", ".", "..", "...", "a.b.c", "Bearer x",
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1] + "." + parts[2] + "=",
		signRaw(nil, `{"alg":"none","kid":"`+agentKID+`"}`, payload("")),
		signRaw(agentKey, `{"alg":"HS256","kid":"`+agentKID+`"}`, payload("")),
		signRaw(agentKey, `{"alg":"EdDSA","kid":"`+agentKID+`","crit":["x"]}`, payload("")),
		signRaw(foreignKey, edHeader, payload("")),
		signRaw(agentKey, edHeader, payload(`"act":{"sub":"a","act":{"sub":"b","x":1}}`)),
		// Validly signed, but saying two things or the wrong type.
		signRaw(agentKey, edHeader, payload(`"sub":"admin"`)),
		signRaw(agentKey, edHeader, payload(`"meta":{"role":"a","role":"admin"}`)),
		signRaw(agentKey, `{"alg":"EdDSA","kid":"x","kid":"`+agentKID+`"}`, payload("")),
		signRaw(agentKey, edHeader, `{"sub":"a","aud":"`+testAudience+`","iss":"`+testIssuer+`","exp":"`+unix(t0.Add(time.Minute))+`"}`),
		b64(`{"alg":"EdDSA","kid":`) + "." + parts[1] + "." + parts[2],
		strings.Repeat("A", identity.MaxTokenSize+1),
	} {
		f.Add(s)
	}
	v := newVerifier(f, fixedAt(t0), identity.WithAlgorithms(identity.AlgEdDSA, identity.AlgES256))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.Verify(ctx, bearer(token))
		if err == nil {
			if !valid[strings.TrimLeft(token, " ")] {
				t.Fatalf("accepted a token the test did not sign: %q → %+v", token, got)
			}
			return
		}
		if !errors.Is(err, identity.ErrInvalid) && !errors.Is(err, identity.ErrNoCredentials) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if got.ID != "" {
			t.Fatalf("refused, yet returned %+v", got)
		}
		if _, err2 := v.VerifyToken(ctx, token); err2 == nil && !valid[token] {
			t.Fatalf("VerifyToken accepted %q", token)
		}
	})
}
