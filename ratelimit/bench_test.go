package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/ratelimit"
)

// tickingClock advances 1µs per reading, so a benchmark's calls spread over
// time like real traffic and old entries keep leaving the window.
func tickingClock() func() time.Time {
	base := time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Microsecond) }
}

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	// 1000 calls per ms admitted; at one call per µs every call is allowed.
	rules := []ratelimit.Rule{
		{Tool: "*", MaxCalls: 2000, Window: time.Millisecond},
		{Tool: "mcp:*", Effect: tollgate.EffectWrite, MaxCalls: 2000, Window: time.Millisecond},
		{AgentID: "other", MaxCalls: 1, Window: time.Hour},
	}
	req := tollgate.ToolRequest{Tool: "mcp:files.write", Effect: tollgate.EffectWrite}
	newL := func(b *testing.B, rules []ratelimit.Rule) *ratelimit.SlidingWindow {
		l, err := ratelimit.NewSlidingWindow(rules, ratelimit.WithClock(tickingClock()))
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	run := func(b *testing.B, l ratelimit.Limiter, agent tollgate.Agent) {
		b.ReportAllocs()
		for b.Loop() {
			if res, _ := l.Allow(ctx, agent, req); !res.Allowed {
				b.Fatal(res.Reason)
			}
		}
	}
	b.Run("one_rule", func(b *testing.B) { run(b, newL(b, rules[:1]), tollgate.Agent{ID: "agent-1"}) })
	b.Run("three_rules", func(b *testing.B) { run(b, newL(b, rules), tollgate.Agent{ID: "agent-1"}) })
	b.Run("no_rule_matches", func(b *testing.B) { run(b, newL(b, rules[2:]), tollgate.Agent{ID: "agent-1"}) })
	b.Run("parallel_agents", func(b *testing.B) {
		l := newL(b, rules)
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			agent := tollgate.Agent{ID: "agent-" + strconv.FormatInt(next.Add(1), 10)}
			for pb.Next() {
				if res, _ := l.Allow(ctx, agent, req); !res.Allowed {
					b.Error(res.Reason)
					return
				}
			}
		})
	})
}

// BenchmarkAllowManyAgents spreads calls over one million distinct agents
// in turn, the calls 1µs apart, after one untimed round of them. With a
// 1-minute window every agent stays tracked (live: the table holds 1M
// agents, each call finds its agent); with a 100 ms window each agent is
// idle before its next call (churn: 100,000 live agents, one forgotten and
// one added per call). No call may be refused for lack of room.
func BenchmarkAllowManyAgents(b *testing.B) {
	const n = 1_000_000
	agents := make([]tollgate.Agent, n)
	for i := range agents {
		agents[i].ID = "agent-" + strconv.Itoa(i)
	}
	req := tollgate.ToolRequest{Tool: "mcp:files.write", Effect: tollgate.EffectWrite}
	for _, bc := range []struct {
		name   string
		window time.Duration
	}{{"live", time.Minute}, {"churn", 100 * time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{{Tool: "*", MaxCalls: 10, Window: bc.window}},
				ratelimit.WithClock(tickingClock()))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for _, a := range agents {
				if res, _ := l.Allow(ctx, a, req); !res.Allowed {
					b.Fatalf("agent %s refused: %s", a.ID, res.Reason)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if res, _ := l.Allow(ctx, agents[i], req); !res.Allowed {
					b.Fatalf("agent #%d refused: %s", i, res.Reason)
				}
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}
