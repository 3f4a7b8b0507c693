package killswitch_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/killswitch"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func compile(t testing.TB, list ...killswitch.Switch) *killswitch.Matcher {
	t.Helper()
	m, err := killswitch.Compile(list)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The first switch in force wins, by kind (global, session, agent, chain,
// exact tool, tool prefix) and then by SetAt; expired ones are skipped.
func TestMatcherPrecedence(t *testing.T) {
	m := compile(t,
		killswitch.Switch{ID: "tool-late", Scope: killswitch.Tool("db:drop"), SetAt: t0.Add(time.Second)},
		killswitch.Switch{ID: "tool-early-expired", Scope: killswitch.Tool("db:drop"), SetAt: t0, ExpiresAt: t0.Add(time.Minute)},
		killswitch.Switch{ID: "prefix", Scope: killswitch.Tool("db:*"), SetAt: t0},
		killswitch.Switch{ID: "root", Scope: killswitch.Agent("root"), SetAt: t0.Add(time.Hour)},
		killswitch.Switch{ID: "session", Scope: killswitch.Session("s1"), SetAt: t0.Add(2 * time.Hour)},
	)
	at := t0.Add(30 * time.Second)
	later := t0.Add(3 * time.Hour)
	for _, tc := range []struct {
		agent tollgate.Agent
		tool  string
		at    time.Time
		want  string
	}{
		{tollgate.Agent{ID: "a"}, "db:drop", at, "tool-early-expired"},
		{tollgate.Agent{ID: "a"}, "db:drop", later, "tool-late"},
		{tollgate.Agent{ID: "a"}, "db:read", later, "prefix"},
		{tollgate.Agent{ID: "a", DelegatedBy: []string{"root"}}, "db:drop", later, "root"},
		{tollgate.Agent{ID: "a", DelegatedBy: []string{"root"}, SessionID: "s1"}, "db:drop", later, "session"},
		{tollgate.Agent{ID: "a"}, "api:x", later, ""},
	} {
		sw, _ := m.Match(tc.agent, tc.tool, tc.at)
		if sw.ID != tc.want {
			t.Errorf("Match(%+v, %q) = %q, want %q", tc.agent, tc.tool, sw.ID, tc.want)
		}
	}
}

func TestMatcherNilAndEmpty(t *testing.T) {
	for _, m := range []*killswitch.Matcher{nil, compile(t)} {
		if _, ok := m.Match(tollgate.Agent{ID: "a"}, "t", t0); ok {
			t.Error("empty matcher matched")
		}
		if _, ok := m.Global(t0); ok || m.Len() != 0 {
			t.Error("empty matcher has a global switch")
		}
	}
}

func TestCompileRefusesInvalidScope(t *testing.T) {
	if _, err := killswitch.Compile([]killswitch.Switch{{ID: "bad", Scope: killswitch.Scope{Kind: "nope"}}}); err == nil {
		t.Fatal("Compile accepted a switch with an unknown kind")
	}
}

// The check runs on every call: with no switch it must cost next to
// nothing, and with a few unrelated switches a few map lookups.
func BenchmarkMatch(b *testing.B) {
	agent := tollgate.Agent{ID: "worker", DelegatedBy: []string{"orchestrator"}, SessionID: "s-1"}
	for _, n := range []int{0, 10} {
		var list []killswitch.Switch
		for i := range n {
			list = append(list,
				killswitch.Switch{ID: fmt.Sprint("a", i), Scope: killswitch.Agent(fmt.Sprint("agent-", i)), SetAt: t0},
				killswitch.Switch{ID: fmt.Sprint("t", i), Scope: killswitch.Tool(fmt.Sprint("mcp", i, ":*")), SetAt: t0})
		}
		m := compile(b, list...)
		b.Run(fmt.Sprintf("switches=%d", 2*n), func(b *testing.B) {
			for b.Loop() {
				if _, ok := m.Match(agent, "api:fetch", t0); ok {
					b.Fatal("matched")
				}
			}
		})
	}
}
