package identity_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

func newSigner(t *testing.T, a tollgate.Agent, opts ...identity.SignerOption) *identity.Signer {
	t.Helper()
	opts = append([]identity.SignerOption{identity.WithAudience(testAudience), identity.WithIssuer(testIssuer)}, opts...)
	s, err := identity.NewSigner(agentKey, agentKID, a, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func token(t *testing.T, s *identity.Signer) string {
	t.Helper()
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSignerRefreshesBeforeExpiry(t *testing.T) {
	clk := newClock(t0)
	ttl := 9 * time.Minute
	s := newSigner(t, workerAgent(), identity.WithClock(clk.Now), identity.WithTTL(ttl))
	v := newVerifier(t, clk.Now, identity.WithSkew(0))

	first := token(t, s)
	clk.Add(ttl*2/3 - time.Second)
	if again := token(t, s); again != first {
		t.Fatal("token re-minted before two thirds of its lifetime")
	}
	if _, err := v.Verify(context.Background(), bearer(first)); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	next := token(t, s)
	if next == first {
		t.Fatal("token not refreshed after two thirds of its lifetime")
	}
	c, err := v.VerifyToken(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	if !c.IssuedAt.Equal(clk.now) || !c.ExpiresAt.Equal(clk.now.Add(ttl)) {
		t.Errorf("refreshed token iat %v exp %v, want %v and %v", c.IssuedAt, c.ExpiresAt, clk.now, clk.now.Add(ttl))
	}
}

func TestSignerSingleUse(t *testing.T) {
	s := newSigner(t, workerAgent(), identity.WithSingleUse(), identity.WithClock(fixedAt(t0)))
	rc := identity.NewMemoryReplayCache(identity.WithClock(fixedAt(t0)))
	v := newVerifier(t, fixedAt(t0), identity.WithReplayCache(rc))
	seen := map[string]bool{}
	for range 5 {
		tok := token(t, s)
		if seen[tok] {
			t.Fatal("single-use signer repeated a token")
		}
		seen[tok] = true
		if _, err := v.Verify(context.Background(), bearer(tok)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignerConcurrent(t *testing.T) {
	s := newSigner(t, workerAgent(), identity.WithClock(fixedAt(t0)))
	var wg sync.WaitGroup
	tokens := make([]string, 32)
	for i := range tokens {
		wg.Go(func() { tokens[i], _ = s.Token(context.Background()) })
	}
	wg.Wait()
	if tokens[0] == "" || slices.ContainsFunc(tokens, func(tok string) bool { return tok != tokens[0] }) {
		t.Fatal("concurrent callers got different or no tokens within one lifetime")
	}
}

func TestSignerCanceledContext(t *testing.T) {
	s := newSigner(t, workerAgent())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestSignerLongestChain(t *testing.T) {
	a := workerAgent()
	a.DelegatedBy = make([]string, identity.MaxDelegationDepth)
	for i := range a.DelegatedBy {
		a.DelegatedBy[i] = "d" + string(rune('A'+i))
	}
	got, err := newVerifier(t, fixedAt(t0)).Verify(context.Background(), bearer(mint(t, a)))
	if err != nil || !slices.Equal(got.DelegatedBy, a.DelegatedBy) {
		t.Fatalf("%v, %v", got.DelegatedBy, err)
	}
}

func TestNewSignerRefusesBadConfig(t *testing.T) {
	aud := identity.WithAudience(testAudience)
	deep := workerAgent()
	deep.DelegatedBy = make([]string, identity.MaxDelegationDepth+1)
	for i := range deep.DelegatedBy {
		deep.DelegatedBy[i] = "d"
	}
	with := func(f func(*tollgate.Agent)) tollgate.Agent {
		a := workerAgent()
		f(&a)
		return a
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tt := range []struct {
		name  string
		key   crypto.Signer
		kid   string
		agent tollgate.Agent
		opts  []identity.SignerOption
		want  string
	}{
		{"no key", nil, "k", workerAgent(), []identity.SignerOption{aud}, "private key"},
		{"P-384 key", p384, "k", workerAgent(), []identity.SignerOption{aud}, "P-256"},
		{"odd key", oddSigner{}, "k", workerAgent(), []identity.SignerOption{aud}, "unsupported key type"},
		{"no kid", agentKey, "", workerAgent(), []identity.SignerOption{aud}, "kid"},
		{"no audience", agentKey, "k", workerAgent(), nil, "WithAudience"},
		{"empty audience", agentKey, "k", workerAgent(), []identity.SignerOption{identity.WithAudience("")}, "WithAudience"},
		{"zero TTL", agentKey, "k", workerAgent(), []identity.SignerOption{aud, identity.WithTTL(0)}, "positive"},
		{"no agent id", agentKey, "k", with(func(a *tollgate.Agent) { a.ID = "" }), []identity.SignerOption{aud}, "empty"},
		{"empty delegator", agentKey, "k", with(func(a *tollgate.Agent) { a.DelegatedBy = []string{"a", ""} }), []identity.SignerOption{aud}, "empty agent id"},
		{"chain too deep", agentKey, "k", deep, []identity.SignerOption{aud}, "longer than"},
		{"legacy signature", agentKey, "k", identity.SignLegacy(workerAgent(), demoKey), []identity.SignerOption{aud}, "_signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := identity.NewSigner(tt.key, tt.kid, tt.agent, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || s != nil {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

type oddSigner struct{}

func (oddSigner) Public() crypto.PublicKey { return "not a key" }
func (oddSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("unreachable")
}

// A signer that fails (an HSM offline) or answers nonsense fails Token,
// not the process.
func TestSignerKeyFailure(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sig  []byte
		err  error
		want string
	}{
		{nil, errors.New("hsm offline"), "hsm offline"},
		{[]byte{1, 2, 3}, nil, "malformed signature"},
		{[]byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01}, nil, "out-of-range"}, // r = 0
	} {
		s, err := identity.NewSigner(stubSigner{ec, tt.sig, tt.err}, "k", workerAgent(), identity.WithAudience(testAudience))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Token(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want one mentioning %q", err, tt.want)
		}
	}
}

type stubSigner struct {
	k   *ecdsa.PrivateKey
	sig []byte
	err error
}

func (s stubSigner) Public() crypto.PublicKey { return s.k.Public() }
func (s stubSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return s.sig, s.err
}
