package identity_test

import (
	"context"
	"testing"

	"github.com/tollgate-go/tollgate/identity"
)

// BenchmarkVerifyCached is a hot agent presenting the token it presented
// before: a keyed 64-bit digest, a cache lookup, a token compare and a key
// check, no signature.
func BenchmarkVerifyCached(b *testing.B) {
	v := newVerifier(b, fixedAt(t0))
	c := bearer(mint(b, workerAgent()))
	ctx := context.Background()
	if _, err := v.Verify(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	v := newVerifier(b, fixedAt(t0))
	c := bearer(mint(b, workerAgent()))
	ctx := context.Background()
	if _, err := v.Verify(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyCold is a first presentation: parse, Ed25519 signature,
// claims, chain.
func BenchmarkVerifyCold(b *testing.B) {
	v := newVerifier(b, fixedAt(t0), identity.WithTokenCacheSize(0))
	c := bearer(mint(b, workerAgent()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignerToken is the client's cost per call between refreshes.
func BenchmarkSignerToken(b *testing.B) {
	s, err := identity.NewSigner(agentKey, agentKID, workerAgent(), identity.WithAudience(testAudience))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
