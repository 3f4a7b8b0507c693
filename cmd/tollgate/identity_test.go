package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/identity"
)

// mint runs identity mint with args and returns the token.
func mintToken(t *testing.T, args ...string) string {
	t.Helper()
	r := cli(t, nil, append([]string{"identity", "mint"}, args...)...).want(t, 0)
	token := strings.TrimSuffix(r.stdout, "\n")
	if strings.Count(token, ".") != 2 || strings.ContainsAny(token, " \n") {
		t.Fatalf("mint printed %q, want one token line", r.stdout)
	}
	return token
}

func TestIdentityMintInspect(t *testing.T) {
	k := newKeys(t)
	token := mintToken(t, "--key", k.priv, "--agent", "worker-agent", "--version", "2.1.0", "--owner", "ops-team",
		"--delegated-by", "orchestrator,router", "--aud", "tickets", "--iss", "https://issuer.example", "--ttl", "10m")

	r := cli(t, nil, "identity", "inspect", "--jwks", k.jwks, "--aud", "tickets", "--iss", "https://issuer.example", token).want(t, 0)
	for _, want := range []string{
		"valid: signed by key ", " (EdDSA)\n",
		"agent_id:     worker-agent\n", "version:      2.1.0\n", "owner:        ops-team\n",
		"delegated_by: orchestrator, router (root first)\n",
		"chain:        orchestrator → router → worker-agent\n",
		"issuer:       https://issuer.example\n", "audience:     tickets\n",
		"(expires in ", "jti:          ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}

	// From stdin, and without --aud (any audience, shown).
	cli(t, strings.NewReader(token+"\n"), "identity", "inspect", "--jwks", k.jwks, "-").want(t, 0)

	// The library verifier agrees with the CLI.
	keys, err := identity.NewJWKSFile(k.jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewJWTVerifier(keys, identity.WithAudience("tickets"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.VerifyToken(context.Background(), token)
	if err != nil || c.Agent.ID != "worker-agent" || !slices.Equal(c.Agent.DelegatedBy, []string{"orchestrator", "router"}) {
		t.Fatalf("library: %+v, %v", c, err)
	}
}

func TestIdentityInspectRefuses(t *testing.T) {
	k := newKeys(t)
	other := newKeys(t)
	base := []string{"--key", k.priv, "--agent", "a", "--version", "1", "--owner", "o", "--aud", "tickets"}
	token := mintToken(t, base...)
	direct := mintToken(t, append(base, "--kid", "not-the-kid")...)
	parts := strings.Split(token, ".")
	tampered := parts[0] + "." + parts[1][:len(parts[1])-2] + "x" + parts[1][len(parts[1])-1:] + "." + parts[2]

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong audience", []string{"--jwks", k.jwks, "--aud", "billing", token}, "invalid audience"},
		{"wrong issuer", []string{"--jwks", k.jwks, "--iss", "https://other.example", token}, "iss claim is required"},
		{"another key set", []string{"--jwks", other.jwks, token}, "unknown key id"},
		{"unknown kid", []string{"--jwks", k.jwks, direct}, "unknown key id"},
		{"tampered", []string{"--jwks", k.jwks, tampered}, "token is invalid"},
		{"garbage", []string{"--jwks", k.jwks, "not-a-token"}, "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cli(t, nil, append([]string{"identity", "inspect"}, tt.args...)...).want(t, 1).oneLineErr(t, tt.want)
		})
	}
}

func TestIdentityMintMeta(t *testing.T) {
	k := newKeys(t)
	token := mintToken(t, "--key", k.priv, "--agent", "alice", "--version", "1", "--owner", "sec",
		"--meta", "role=admin", "--meta", "environment=prod", "--aud", "tollgate-admin")
	keys, err := identity.NewJWKSFile(k.jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewJWTVerifier(keys, identity.WithAudience("tollgate-admin"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.VerifyToken(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if role, _ := c.Agent.Metadata.Get("role"); role != "admin" {
		t.Errorf("role = %v, metadata %v", role, c.Agent.Metadata)
	}
	if env, _ := c.Agent.Metadata.Get("environment"); env != "prod" {
		t.Errorf("environment = %v", env)
	}
}

func TestIdentityUsageErrors(t *testing.T) {
	k := newKeys(t)
	mint := []string{"identity", "mint", "--key", k.priv, "--agent", "a", "--version", "1", "--owner", "o"}
	inspect := []string{"identity", "inspect", "--jwks", k.jwks}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"identity", "mint-please"}, "takes a subcommand"},
		{"mint without --aud", mint, `"aud"`},
		{"mint zero ttl", append(mint, "--aud", "x", "--ttl", "0s"), "--ttl must be between"},
		{"mint long ttl", append(mint, "--aud", "x", "--ttl", "25h"), "--ttl must be between 1s and --max-ttl 24h0m0s"},
		{"mint empty delegator", append(mint, "--aud", "x", "--delegated-by", "a,,b"), "empty agent id"},
		{"mint meta without =", append(mint, "--aud", "x", "--meta", "role"), "want KEY=VALUE"},
		{"mint meta twice", append(mint, "--aud", "x", "--meta", "role=a", "--meta", "role=b"), "given twice"},
		{"mint empty agent", []string{"identity", "mint", "--key", k.priv, "--agent", "", "--version", "1", "--owner", "o", "--aud", "x"}, "agent id"},
		{"mint missing key", []string{"identity", "mint", "--key", filepath.Join(t.TempDir(), "none.key"), "--agent", "a", "--version", "1", "--owner", "o", "--aud", "x"}, "none.key"},
		{"mint with a public key", []string{"identity", "mint", "--key", k.pub, "--agent", "a", "--version", "1", "--owner", "o", "--aud", "x"}, "PRIVATE KEY"},
		{"inspect without a token", inspect, "one TOKEN"},
		{"inspect without --jwks", []string{"identity", "inspect", "x"}, `"jwks"`},
		{"inspect negative skew", append(inspect, "--skew", "-1s", "x"), "--skew must not be negative"},
		{"inspect zero max-ttl", append(inspect, "--max-ttl", "0s", "x"), "--max-ttl must be positive"},
		{"mint zero max-ttl", append(mint, "--aud", "x", "--max-ttl", "0s"), "--max-ttl must be positive"},
		{"mint ttl over max-ttl", append(mint, "--aud", "x", "--ttl", "2h", "--max-ttl", "1h"), "--ttl must be between 1s and --max-ttl 1h0m0s, got 2h0m0s"},
		{"inspect unreadable JWKS", []string{"identity", "inspect", "--jwks", k.priv, "x"}, "JWKS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cli(t, nil, tt.args...).want(t, 2).oneLineErr(t, tt.want)
		})
	}
}

// A token longer-lived than the maximum needs --max-ttl on both sides.
func TestIdentityMaxTTL(t *testing.T) {
	k := newKeys(t)
	token := mintToken(t, "--key", k.priv, "--agent", "a", "--version", "1", "--owner", "o", "--aud", "tickets",
		"--ttl", "48h", "--max-ttl", "48h")
	cli(t, nil, "identity", "inspect", "--jwks", k.jwks, token).want(t, 1).
		oneLineErr(t, "token lifetime (exp − iat) is 48h0m0s, over the 24h0m0s maximum")
	cli(t, nil, "identity", "inspect", "--jwks", k.jwks, "--max-ttl", "48h", token).want(t, 0)
	cli(t, nil, "identity", "inspect", "--jwks", k.jwks, "--max-ttl", "47h", token).want(t, 1).oneLineErr(t, "over the 47h0m0s maximum")
}

// inspect refuses a validly signed token that says two things, and says why.
func TestIdentityInspectRefusesAmbiguousTokens(t *testing.T) {
	k := newKeys(t)
	priv, err := readPrivateKey(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	kid := identity.KeyID(priv.Public().(ed25519.PublicKey))
	exp := time.Now().Add(time.Hour).Unix()
	sign := func(header, claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		input := enc([]byte(header)) + "." + enc([]byte(claims))
		return input + "." + enc(ed25519.Sign(priv, []byte(input)))
	}
	header := `{"alg":"EdDSA","kid":"` + kid + `"}`
	claims := func(extra string) string {
		return `{"sub":"worker","aud":"tickets","exp":` + strconv.FormatInt(exp, 10) + extra + `}`
	}
	cli(t, nil, "identity", "inspect", "--jwks", k.jwks, sign(header, claims(""))).want(t, 0)
	for _, tt := range []struct{ name, token, want string }{
		{"sub twice", sign(header, claims(`,"sub":"admin"`)), `member "sub" appears twice`},
		{"meta.role twice", sign(header, claims(`,"meta":{"role":"support","role":"admin"}`)), `member "meta.role" appears twice`},
		{"kid twice", sign(`{"alg":"EdDSA","kid":"x","kid":"`+kid+`"}`, claims("")), `header: member "kid" appears twice`},
		{"exp a string", sign(header, `{"sub":"worker","aud":"tickets","exp":"`+strconv.FormatInt(exp, 10)+`"}`), `claim "exp" is a string, want a JSON number`},
		{"no iat, a year", sign(header, `{"sub":"worker","aud":"tickets","exp":`+strconv.FormatInt(exp+365*24*3600, 10)+`}`), `token has no "iat"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cli(t, nil, "identity", "inspect", "--jwks", k.jwks, tt.token).want(t, 1).oneLineErr(t, tt.want)
		})
	}
}

// --sid puts the session in the token's "sid" claim; inspect shows it and
// the library verifier returns it as Agent.SessionID.
func TestIdentityMintSessionID(t *testing.T) {
	k := newKeys(t)
	token := mintToken(t, "--key", k.priv, "--agent", "support-bot", "--version", "1", "--owner", "o",
		"--sid", "sess-42", "--aud", "tickets")
	r := cli(t, nil, "identity", "inspect", "--jwks", k.jwks, "--aud", "tickets", token).want(t, 0)
	if !strings.Contains(r.stdout, "session_id:   sess-42\n") {
		t.Errorf("inspect output lacks the session:\n%s", r.stdout)
	}
	keys, err := identity.NewJWKSFile(k.jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewJWTVerifier(keys, identity.WithAudience("tickets"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.VerifyToken(context.Background(), token); err != nil || c.Agent.SessionID != "sess-42" {
		t.Fatalf("library: SessionID %q, %v", c.Agent.SessionID, err)
	}
}
