package breaker_test

import (
	"context"
	"testing"

	"github.com/tollgate-go/tollgate/breaker"
)

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, tool string) {
		br, err := breaker.New(breaker.Settings{FailureThreshold: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		if done, err := br.Allow(ctx, "failed-once"); err == nil {
			done(breaker.Failure) // gives "failed-once" a (closed) circuit
		}
		b.ReportAllocs()
		for b.Loop() {
			done, err := br.Allow(ctx, tool)
			if err != nil {
				b.Fatal(err)
			}
			done(breaker.Success)
		}
	}
	// A tool that never failed has no circuit yet: the common case.
	b.Run("closed_no_circuit", func(b *testing.B) { run(b, "healthy") })
	b.Run("closed_with_circuit", func(b *testing.B) { run(b, "failed-once") })
	b.Run("parallel", func(b *testing.B) {
		br, _ := breaker.New(breaker.Settings{FailureThreshold: 1 << 30})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				done, err := br.Allow(ctx, "healthy")
				if err != nil {
					b.Error(err)
					return
				}
				done(breaker.Success)
			}
		})
	})
}
