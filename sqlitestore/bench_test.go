package sqlitestore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
)

// The benchmarks run the same work on the memory stores, for comparison.
// SQLite numbers are dominated by the fsync of each commit
// (synchronous=FULL), so they depend on the disk far more than on the CPU.

// BenchmarkGrantConsume consumes the one grant matching the call among 100
// grants for other agents.
func BenchmarkGrantConsume(b *testing.B) {
	for _, bc := range []struct {
		name  string
		store func(b *testing.B) grants.Store
	}{
		{"memory", func(*testing.B) grants.Store { return grants.NewMemory() }},
		{"sqlite", func(b *testing.B) grants.Store { return openDB(b).Grants() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := bc.store(b)
			now := time.Now()
			for i := range 100 {
				if _, err := s.Create(b.Context(), grants.Grant{AgentID: fmt.Sprint("other-", i), ExpiresAt: now.Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.Create(b.Context(), grants.Grant{AgentID: testAgent.ID, Tool: "api:*", ExpiresAt: now.Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, found, err := s.Consume(b.Context(), testAgent, testCall, now); !found || err != nil {
					b.Fatalf("Consume = %v, %v", found, err)
				}
			}
		})
	}
}

// BenchmarkApprovalConsume spends approved approvals, one per iteration;
// creating and approving them is not timed.
func BenchmarkApprovalConsume(b *testing.B) {
	for _, bc := range []struct {
		name  string
		store func(b *testing.B) approvals.Store
	}{
		{"memory", func(*testing.B) approvals.Store { return approvals.NewMemoryStore() }},
		{"sqlite", func(b *testing.B) approvals.Store { return openDB(b).Approvals() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := bc.store(b)
			r := secretRequest()
			hash := bindingOf(r)
			var ready []string
			refill := func() {
				b.StopTimer()
				defer b.StartTimer()
				for range 256 {
					id, err := s.Create(b.Context(), r)
					if err == nil {
						err = s.Decide(b.Context(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "bench", At: time.Now()})
					}
					if err != nil {
						b.Fatal(err)
					}
					ready = append(ready, id)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if len(ready) == 0 {
					refill()
				}
				if err := s.Consume(b.Context(), ready[0], hash, time.Now()); err != nil {
					b.Fatal(err)
				}
				ready = ready[1:]
			}
		})
	}
}
