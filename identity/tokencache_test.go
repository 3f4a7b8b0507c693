package identity_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

func TestTokenCacheHonoursExp(t *testing.T) {
	clk := newClock(t0)
	// Without skew, a token past exp fails full verification, so an
	// accepted call at exp could only come from the cache.
	v := newVerifier(t, clk.Now, identity.WithSkew(0))
	token := mint(t, workerAgent())
	exp := t0.Add(identity.DefaultTokenTTL)

	if _, err := v.Verify(context.Background(), bearer(token)); err != nil {
		t.Fatal(err)
	}
	if !identity.Cached(v, token, t0) {
		t.Fatal("verified token is not cached")
	}
	clk.now = exp.Add(-time.Nanosecond)
	if _, err := v.Verify(context.Background(), bearer(token)); err != nil {
		t.Fatalf("just before exp: %v", err)
	}
	clk.now = exp
	if _, err := v.Verify(context.Background(), bearer(token)); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("at exp: err = %v, want the token refused", err)
	}
	if identity.Cached(v, token, t0) {
		t.Error("expired entry still cached")
	}
}

func TestTokenCacheIsBoundedLRU(t *testing.T) {
	v := newVerifier(t, fixedAt(t0), identity.WithTokenCacheSize(2))
	tok := make([]string, 3)
	for i := range tok {
		a := workerAgent()
		a.ID = string(rune('a' + i))
		tok[i] = mint(t, a)
	}
	for _, i := range []int{0, 1, 0, 2} { // 0 is used again before 2 arrives: 1 is evicted
		if _, err := v.Verify(context.Background(), bearer(tok[i])); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []bool{true, false, true} {
		if got := identity.Cached(v, tok[i], t0); got != want {
			t.Errorf("token %d cached = %v, want %v", i, got, want)
		}
	}
}

func TestTokenCacheOff(t *testing.T) {
	token := mint(t, workerAgent())
	v := newVerifier(t, fixedAt(t0), identity.WithTokenCacheSize(0))
	for range 2 {
		if _, err := v.Verify(context.Background(), bearer(token)); err != nil {
			t.Fatal(err)
		}
	}
	if identity.Cached(v, token, t0) {
		t.Error("cache off, token cached")
	}
}

// Callers own the Agent they get: changing it changes no cached entry.
func TestTokenCacheReturnsCopies(t *testing.T) {
	v := newVerifier(t, fixedAt(t0))
	token := mint(t, workerAgent())
	for range 2 {
		a, err := v.Verify(context.Background(), bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.DelegatedBy, workerAgent().DelegatedBy) || !slices.Equal(a.Metadata, workerAgent().Metadata) {
			t.Fatalf("agent = %+v", a)
		}
		a.DelegatedBy[0] = "trusted-root"
		a.Metadata[0].Value = "dev"
		a.Metadata.Set("role", tollgate.Params{{Key: "admin", Value: true}})
		c, err := v.VerifyToken(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		c.Audience[0] = "other"
		c.Agent.DelegatedBy[1] = "x"
	}
}

// Single-use tokens bypass the cache: a cache hit would be a reuse.
func TestReplayCacheBypassesTokenCache(t *testing.T) {
	clk := newClock(t0)
	v := newVerifier(t, clk.Now, identity.WithReplayCache(identity.NewMemoryReplayCache(identity.WithClock(clk.Now))))
	token := mint(t, workerAgent())
	if _, err := v.Verify(context.Background(), bearer(token)); err != nil {
		t.Fatal(err)
	}
	if identity.Cached(v, token, t0) {
		t.Fatal("single-use token cached")
	}
	_, err := v.Verify(context.Background(), bearer(token))
	if !errors.Is(err, identity.ErrReplayed) || !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("replayed token: err = %v, want ErrReplayed and ErrInvalid", err)
	}
	// Still refused within the skew after exp, while the verifier would
	// accept the token; the replay cache remembers it that long.
	clk.now = t0.Add(identity.DefaultTokenTTL + identity.DefaultSkew - time.Second)
	if _, err := v.Verify(context.Background(), bearer(token)); !errors.Is(err, identity.ErrReplayed) {
		t.Fatalf("replayed within skew: err = %v", err)
	}
}

func TestSingleUseNeedsJTI(t *testing.T) {
	v := newVerifier(t, fixedAt(t0), identity.WithReplayCache(identity.NewMemoryReplayCache(identity.WithClock(fixedAt(t0)))))
	long := `"jti":"` + strings.Repeat("j", 257) + `"`
	for name, tok := range map[string]string{
		"no jti":   signRaw(agentKey, edHeader, payload("")),
		"long jti": signRaw(agentKey, edHeader, payload(long)),
	} {
		if _, err := v.Verify(context.Background(), bearer(tok)); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := v.Verify(context.Background(), bearer(signRaw(agentKey, edHeader, payload(`"jti":"j-1"`)))); err != nil {
		t.Errorf("token with jti: %v", err)
	}
}

// A replay cache that cannot answer refuses the call as a server failure.
func TestReplayCacheFailureFailsClosed(t *testing.T) {
	down := errors.New("redis down")
	v := newVerifier(t, fixedAt(t0), identity.WithReplayCache(replayFunc(func(context.Context, string, time.Time) error { return down })))
	_, err := v.Verify(context.Background(), bearer(mint(t, workerAgent())))
	if !errors.Is(err, down) || errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("err = %v, want the cache's error, not ErrInvalid", err)
	}
}

type replayFunc func(ctx context.Context, jti string, exp time.Time) error

func (f replayFunc) MarkUsed(ctx context.Context, jti string, exp time.Time) error {
	return f(ctx, jti, exp)
}
