package redisstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/internal/redistest"
)

// BenchmarkGrantConsume measures one Consume round trip against a local
// server holding a realistic mix: 100 grants of other agents (which the
// live sets skip), 10 wildcard grants for other tools (scanned and
// rejected) and the unlimited grant that matches.
func BenchmarkGrantConsume(b *testing.B) {
	b.Run("redis", func(b *testing.B) {
		gs := New(redistest.Start(b).Client(b)).Grants()
		ctx := b.Context()
		for i := range 100 {
			mustCreate(b, gs, testGrant(fmt.Sprintf("other-%d", i)))
		}
		for i := range 10 {
			g := testGrant("")
			g.Tool = fmt.Sprintf("other:tool-%d", i)
			mustCreate(b, gs, g)
		}
		mustCreate(b, gs, testGrant(testAgent.ID))
		b.ReportAllocs()
		for b.Loop() {
			if _, found, err := gs.Consume(ctx, testAgent, testReq, testNow); !found || err != nil {
				b.Fatalf("Consume = %v, %v", found, err)
			}
		}
	})
}

func mustCreate(b *testing.B, gs grants.Store, g grants.Grant) {
	b.Helper()
	if _, err := gs.Create(b.Context(), g); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApprovalConsume measures spending an approved request (one
// script round trip); the approvals are created and decided beforehand.
func BenchmarkApprovalConsume(b *testing.B) {
	b.Run("redis", func(b *testing.B) {
		as := New(redistest.Start(b).Client(b)).Approvals()
		ctx := b.Context()
		r := testRequest()
		hash := approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
		ids := make([]string, b.N)
		for i := range ids {
			id, err := as.Create(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			if err := as.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: time.Now()}); err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		now := time.Now()
		b.ReportAllocs()
		b.ResetTimer()
		for _, id := range ids {
			if err := as.Consume(ctx, id, hash, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
