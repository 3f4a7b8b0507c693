package identity_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// member is one claim as raw JSON; in claimsJSON's edits an empty value
// drops the claim.
type member struct{ name, value string }

// claimsJSON returns a valid payload at t0 (payload("")'s claims) with
// edits applied: each replaces the claim of its name, or is appended.
func claimsJSON(edits ...member) string {
	ms := []member{
		{"iss", strconv.Quote(testIssuer)}, {"sub", `"worker-agent"`}, {"aud", `["` + testAudience + `"]`},
		{"iat", unix(t0)}, {"nbf", unix(t0)}, {"exp", unix(t0.Add(5 * time.Minute))},
	}
	for _, e := range edits {
		i := slices.IndexFunc(ms, func(m member) bool { return m.name == e.name })
		switch {
		case i < 0:
			ms = append(ms, e)
		case e.value == "":
			ms = slices.Delete(ms, i, i+1)
		default:
			ms[i] = e
		}
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strconv.Quote(m.name) + ":" + m.value
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// keySources returns the three ways a verifier gets agentKey: a static
// KeySet, a JWKS file and a JWKS URL. The strict checks run after the key
// is found, whichever way that is.
func keySources(t *testing.T) map[string]identity.KeySet {
	t.Helper()
	file, err := identity.NewJWKSFile(writeJWKS(t, jwk(agentKey)))
	if err != nil {
		t.Fatal(err)
	}
	url := newJWKSURL(t, newKeyServer(t, jwksJSON(t, jwk(agentKey))).url, newClock(t0))
	return map[string]identity.KeySet{"static": testKeySet(t), "JWKS file": file, "JWKS URL": url}
}

func verifierFor(t *testing.T, keys identity.KeySet, opts ...identity.JWTOption) *identity.JWTVerifier {
	t.Helper()
	opts = append([]identity.JWTOption{identity.WithAudience(testAudience), identity.WithIssuer(testIssuer), identity.WithClock(fixedAt(t0))}, opts...)
	v, err := identity.NewJWTVerifier(keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A validly signed token that says two things, or says a thing with the
// wrong JSON type, is refused: encoding/json (and so golang-jwt) would
// have taken the last of two values, and "exp" from a string.
func TestJWTVerifierRefusesAmbiguousTokens(t *testing.T) {
	exp := unix(t0.Add(5 * time.Minute))
	for _, tt := range []struct {
		name, header, claims string
		want                 string // in the error, for the server log
	}{
		{"sub twice", edHeader, payload(`"sub":"admin"`), `member "sub" appears twice`},
		{"sub twice, escaped", edHeader, payload(`"\u0073ub":"admin"`), `member "sub" appears twice`},
		{"sub in another case", edHeader, payload(`"SUB":"admin"`), `members "sub" and "SUB" differ only in case`},
		{"sub in another case, long s", edHeader, payload(`"ſub":"admin"`), `differ only in case`},
		{"aud in another case", edHeader, claimsJSON(member{"aud", ""}, member{"AuD", `"` + testAudience + `"`}), `member "AuD" is "aud" in another case`},
		{"meta in another case", edHeader, claimsJSON(member{"Meta", `{"role":"admin"}`}), `member "Meta" is "meta" in another case`},
		{"exp twice", edHeader, payload(`"exp":` + unix(t0.Add(time.Hour))), `member "exp" appears twice`},
		{"aud twice", edHeader, payload(`"aud":"admin-service"`), `member "aud" appears twice`},
		{"iss twice", edHeader, payload(`"iss":"https://evil.example"`), `member "iss" appears twice`},
		{"act twice", edHeader, payload(`"act":{"sub":"router"},"act":{"sub":"trusted-root"}`), `member "act" appears twice`},
		{"meta twice", edHeader, payload(`"meta":{"role":"support"},"meta":{"role":"admin"}`), `member "meta" appears twice`},
		{"meta.role twice", edHeader, payload(`"meta":{"role":"support","role":"admin"}`), `member "meta.role" appears twice`},
		{"twice deep in meta", edHeader, payload(`"meta":{"tags":[{"k":1},{"k":1,"k":2}]}`), `member "meta.tags[1].k" appears twice`},
		{"act.act.sub twice", edHeader, payload(`"act":{"sub":"router","act":{"sub":"orchestrator","sub":"trusted-root"}}`), `member "act.act.sub" appears twice`},
		{"alg twice in header", `{"alg":"none","alg":"EdDSA","kid":"` + agentKID + `"}`, payload(""), `header: member "alg" appears twice`},
		{"kid twice in header", `{"alg":"EdDSA","kid":"other-key","kid":"` + agentKID + `"}`, payload(""), `header: member "kid" appears twice`},
		{"kid in another case in header", `{"alg":"EdDSA","kid":"` + agentKID + `","KID":"other-key"}`, payload(""), `differ only in case`},
		{"alg in another case in header", `{"ALG":"none","kid":"` + agentKID + `","alg":"EdDSA"}`, payload(""), `member "ALG" is "alg" in another case`},
		{"header typ not a string", `{"alg":"EdDSA","kid":"` + agentKID + `","typ":1}`, payload(""), `header member "typ" is a number, want a string`},
		{"claims not UTF-8", edHeader, payload(`"owner":"ops` + "\xff" + `"`), `claims: not valid UTF-8`},
		{"header not UTF-8", `{"alg":"EdDSA","kid":"` + agentKID + `","typ":"JWT` + "\xfe" + `"}`, payload(""), `header: not valid UTF-8`},
		{"exp a string", edHeader, claimsJSON(member{"exp", `"` + exp + `"`}), `claim "exp" is a string, want a JSON number`},
		{"nbf a string", edHeader, claimsJSON(member{"nbf", `"` + unix(t0) + `"`}), `claim "nbf" is a string, want a JSON number`},
		{"iat a string", edHeader, claimsJSON(member{"iat", `"` + unix(t0) + `"`}), `claim "iat" is a string, want a JSON number`},
		{"exp null", edHeader, claimsJSON(member{"exp", `null`}), `claim "exp" is null, want a JSON number`},
		{"exp negative", edHeader, claimsJSON(member{"iat", ""}, member{"nbf", ""}, member{"exp", `-1`}), `claim "exp" is -1, want seconds since the epoch between 0 and`},
		{"exp beyond year 9999", edHeader, claimsJSON(member{"exp", `1e300`}), `claim "exp" is 1e300, want seconds since the epoch`},
		{"aud a number", edHeader, claimsJSON(member{"aud", `5`}), `claim "aud" is a number, want a string or an array of strings`},
		{"aud an object", edHeader, claimsJSON(member{"aud", `{"` + testAudience + `":true}`}), `claim "aud" is an object`},
		{"aud null", edHeader, claimsJSON(member{"aud", `null`}), `claim "aud" is null`},
		{"aud array with a number", edHeader, claimsJSON(member{"aud", `["` + testAudience + `",5]`}), `claim "aud" has a number at index 1, want an array of strings only`},
		{"sub a number", edHeader, claimsJSON(member{"sub", `7`}), `claim "sub" is a number, want a string`},
		{"sub an array", edHeader, claimsJSON(member{"sub", `["worker-agent"]`}), `claim "sub" is an array, want a string`},
		{"iss a boolean", edHeader, claimsJSON(member{"iss", `true`}), `claim "iss" is a boolean, want a string`},
		{"jti a number", edHeader, claimsJSON(member{"jti", `12`}), `claim "jti" is a number, want a string`},
		{"owner a number", edHeader, claimsJSON(member{"owner", `0`}), `claim "owner" is a number, want a string`},
		{"sid a number", edHeader, claimsJSON(member{"sid", `42`}), `claim "sid" is a number, want a string`},
		{"sid in another case", edHeader, claimsJSON(member{"SID", `"s-1"`}), `member "SID" is "sid" in another case`},
		{"meta a string", edHeader, claimsJSON(member{"meta", `"role=admin"`}), `meta claim: a string, want an object`},
	} {
		token := signRaw(agentKey, tt.header, tt.claims)
		for source, keys := range keySources(t) {
			t.Run(tt.name+"/"+source, func(t *testing.T) {
				got, err := verifierFor(t, keys).Verify(context.Background(), bearer(token))
				if !errors.Is(err, identity.ErrInvalid) || !errors.Is(err, jwt.ErrTokenMalformed) {
					t.Fatalf("err = %v, want ErrInvalid wrapping jwt.ErrTokenMalformed", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want it to say %q", err, tt.want)
				}
				if !reflect.DeepEqual(got, tollgate.Agent{}) {
					t.Errorf("refused token returned agent %+v", got)
				}
			})
		}
	}
}

// The strict reading comes after the signature: a forged token is refused
// for its signature, whatever it says.
func TestJWTVerifierChecksSignatureFirst(t *testing.T) {
	forged := signRaw(foreignKey, `{"alg":"EdDSA","alg":"EdDSA","kid":"`+agentKID+`"}`, payload(`"sub":"admin"`))
	_, err := newVerifier(t, fixedAt(t0)).Verify(context.Background(), bearer(forged))
	if !errors.Is(err, jwt.ErrTokenSignatureInvalid) || strings.Contains(err.Error(), "twice") {
		t.Fatalf("err = %v, want a signature error", err)
	}
}

// What the strict reading must still accept.
func TestJWTVerifierAcceptsStrictTokens(t *testing.T) {
	v := newVerifier(t, fixedAt(t0))
	for _, tt := range []struct {
		name, claims string
		check        func(identity.Claims) bool
	}{
		{"the same name at other levels", claimsJSON(member{"meta", `{"sub":"x","aud":1,"meta":{"sub":"y"}}`}, member{"act", `{"sub":"router","act":{"sub":"orchestrator"}}`}),
			func(c identity.Claims) bool {
				return c.Agent.ID == "worker-agent" && slices.Equal(c.Agent.DelegatedBy, []string{"orchestrator", "router"})
			}},
		{"names differing in case inside meta", claimsJSON(member{"meta", `{"Role":"a","role":"b"}`}),
			func(c identity.Claims) bool { r, _ := c.Agent.Metadata.Get("role"); return r == "b" }},
		{"aud as one string", claimsJSON(member{"aud", strconv.Quote(testAudience)}),
			func(c identity.Claims) bool { return slices.Equal(c.Audience, []string{testAudience}) }},
		{"fractional exp", claimsJSON(member{"exp", unix(t0.Add(time.Minute)) + ".75"}),
			func(c identity.Claims) bool { return c.ExpiresAt.Equal(t0.Add(time.Minute)) }},
		{"exp in exponent form", claimsJSON(member{"exp", strings.TrimSuffix(unix(t0.Add(time.Minute)), "7") + "7e0"}),
			func(c identity.Claims) bool { return c.ExpiresAt.Equal(t0.Add(time.Minute)) }},
		{"null meta and act", claimsJSON(member{"meta", `null`}, member{"act", `null`}),
			func(c identity.Claims) bool { return c.Agent.Metadata == nil && c.Agent.DelegatedBy == nil }},
		{"unknown claims are ignored", claimsJSON(member{"scope", `["a","a"]`}, member{"x-extra", `{"n":1e400}`}),
			func(c identity.Claims) bool { return c.Agent.ID == "worker-agent" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.VerifyToken(context.Background(), signRaw(agentKey, edHeader, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

// A token may live at most DefaultMaxTokenLifetime (exp − iat, or exp −
// now without iat), unless the verifier says otherwise.
func TestJWTVerifierMaxLifetime(t *testing.T) {
	day := identity.DefaultMaxTokenLifetime
	withIat := func(iat time.Time, life time.Duration) string {
		return signRaw(agentKey, edHeader, claimsJSON(member{"iat", unix(iat)}, member{"nbf", ""}, member{"exp", unix(iat.Add(life))}))
	}
	noIat := func(life time.Duration) string {
		return signRaw(agentKey, edHeader, claimsJSON(member{"iat", ""}, member{"nbf", ""}, member{"exp", unix(t0.Add(life))}))
	}
	for _, tt := range []struct {
		name  string
		token string
		opts  []identity.JWTOption
		want  string // "" accepted
	}{
		{"iat, 24h", withIat(t0, day), nil, ""},
		{"iat, 24h1s", withIat(t0, day+time.Second), nil, "token lifetime (exp − iat) is 24h0m1s, over the 24h0m0s maximum"},
		{"iat, a year", withIat(t0, 365*day), nil, "over the 24h0m0s maximum"},
		{"iat backdated a day, exp soon", withIat(t0.Add(-day), day+time.Minute), nil, "token lifetime (exp − iat) is 24h1m0s"},
		{"no iat, 24h + skew", noIat(day + identity.DefaultSkew), nil, ""},
		{"no iat, 25h", noIat(25 * time.Hour), nil, `token has no "iat" and expires in 25h0m0s, over the 24h0m0s maximum lifetime`},
		{"no iat, a year", noIat(365 * day), nil, `token has no "iat"`},
		{"iat, 25h, raised maximum", withIat(t0, 25*time.Hour), []identity.JWTOption{identity.WithMaxTokenLifetime(25 * time.Hour)}, ""},
		{"no iat, 25h, raised maximum", noIat(25 * time.Hour), []identity.JWTOption{identity.WithMaxTokenLifetime(25 * time.Hour)}, ""},
		{"no iat, a year, largest maximum", noIat(365 * day), []identity.JWTOption{identity.WithMaxTokenLifetime(math.MaxInt64)}, ""},
		{"iat, a year, largest maximum", withIat(t0, 365*day), []identity.JWTOption{identity.WithMaxTokenLifetime(math.MaxInt64)}, ""},
		{"iat, 10m, lowered maximum", withIat(t0, 10*time.Minute), []identity.JWTOption{identity.WithMaxTokenLifetime(5 * time.Minute)}, "over the 5m0s maximum"},
	} {
		for source, keys := range keySources(t) {
			t.Run(tt.name+"/"+source, func(t *testing.T) {
				_, err := verifierFor(t, keys, tt.opts...).Verify(context.Background(), bearer(tt.token))
				if tt.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if !errors.Is(err, identity.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want ErrInvalid saying %q", err, tt.want)
				}
			})
		}
	}
}

// A Signer cannot mint what a verifier with the same maximum refuses, and
// a verifier with a raised maximum accepts what a Signer told so mints.
func TestSignerMaxLifetime(t *testing.T) {
	agent := workerAgent()
	if _, err := identity.NewSigner(agentKey, agentKID, agent, identity.WithAudience(testAudience), identity.WithTTL(25*time.Hour)); err == nil ||
		!strings.Contains(err.Error(), "WithTTL(25h0m0s) is over the 24h0m0s maximum token lifetime") {
		t.Fatalf("err = %v, want the TTL refused", err)
	}
	long := mint(t, agent, identity.WithTTL(48*time.Hour), identity.WithMaxTokenLifetime(48*time.Hour))
	if _, err := newVerifier(t, fixedAt(t0)).Verify(context.Background(), bearer(long)); !errors.Is(err, identity.ErrInvalid) ||
		!strings.Contains(err.Error(), "48h0m0s, over the 24h0m0s maximum") {
		t.Fatalf("default verifier: err = %v, want the lifetime refused", err)
	}
	if _, err := newVerifier(t, fixedAt(t0), identity.WithMaxTokenLifetime(48*time.Hour)).Verify(context.Background(), bearer(long)); err != nil {
		t.Fatalf("verifier with the same maximum: %v", err)
	}
	// The longest TTL the defaults allow verifies under the defaults.
	if _, err := newVerifier(t, fixedAt(t0)).Verify(context.Background(), bearer(mint(t, agent, identity.WithTTL(identity.DefaultMaxTokenLifetime)))); err != nil {
		t.Fatalf("TTL = DefaultMaxTokenLifetime: %v", err)
	}
}

func TestMaxLifetimeMustBePositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Hour} {
		if v, err := identity.NewJWTVerifier(testKeySet(t), identity.WithAudience(testAudience), identity.WithMaxTokenLifetime(d)); err == nil ||
			v != nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("NewJWTVerifier(WithMaxTokenLifetime(%v)): err = %v", d, err)
		}
		if s, err := identity.NewSigner(agentKey, agentKID, workerAgent(), identity.WithAudience(testAudience), identity.WithMaxTokenLifetime(d)); err == nil ||
			s != nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("NewSigner(WithMaxTokenLifetime(%v)): err = %v", d, err)
		}
	}
}
