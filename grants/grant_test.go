package grants_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

func TestMatches(t *testing.T) {
	agent := tollgate.Agent{ID: "agent-1", Version: "1.0.0", Owner: "team"}
	req := tollgate.ToolRequest{Tool: "mcp:server.read", Action: "read", ResourceType: "file", Effect: tollgate.EffectRead}
	tests := []struct {
		name  string
		grant grants.Grant
		want  bool
	}{
		{"all wildcards", grants.Grant{}, true},
		{"exact", grants.Grant{AgentID: "agent-1", Effect: tollgate.EffectRead, Tool: "mcp:server.read", Action: "read", ResourceType: "file"}, true},
		{"agent differs", grants.Grant{AgentID: "agent-2"}, false},
		{"agent is case-sensitive", grants.Grant{AgentID: "Agent-1"}, false},
		{"effect differs", grants.Grant{Effect: tollgate.EffectWrite}, false},
		{"prefix", grants.Grant{Tool: "mcp:*"}, true},
		{"star", grants.Grant{Tool: "*"}, true},
		{"prefix differs", grants.Grant{Tool: "langchain:*"}, false},
		{"inner star is literal", grants.Grant{Tool: "mcp:*.read"}, false},
		{"tool differs", grants.Grant{Tool: "mcp:server"}, false},
		{"action differs", grants.Grant{Action: "write"}, false},
		{"resource differs", grants.Grant{ResourceType: "dir"}, false},
	}
	for _, tt := range tests {
		if got := tt.grant.Matches(agent, req); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestActive(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	live := grants.Grant{ExpiresAt: now.Add(time.Nanosecond)}
	tests := []struct {
		name string
		g    grants.Grant
		want bool
	}{
		{"live", live, true},
		{"expires now", grants.Grant{ExpiresAt: now}, false},
		{"expired", grants.Grant{ExpiresAt: now.Add(-time.Second)}, false},
		{"revoked", grants.Grant{ExpiresAt: live.ExpiresAt, Revoked: true}, false},
		{"uses left", grants.Grant{ExpiresAt: live.ExpiresAt, MaxUses: 2, Uses: 1}, true},
		{"used up", grants.Grant{ExpiresAt: live.ExpiresAt, MaxUses: 2, Uses: 2}, false},
		{"unlimited", grants.Grant{ExpiresAt: live.ExpiresAt, Uses: 1 << 30}, true},
	}
	for _, tt := range tests {
		if got := tt.g.Active(now); got != tt.want {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	exp := time.Unix(1_800_000_000, 0)
	if err := (grants.Grant{ExpiresAt: exp, Effect: tollgate.EffectDelete, MaxUses: 1}).Validate(); err != nil {
		t.Fatalf("valid grant: %v", err)
	}
	for name, g := range map[string]grants.Grant{
		"no expiry":        {},
		"upper-case":       {ExpiresAt: exp, Effect: "WRITE"},
		"negative maximum": {ExpiresAt: exp, MaxUses: -3},
	} {
		if err := g.Validate(); !errors.Is(err, grants.ErrInvalidGrant) {
			t.Errorf("%s: err = %v, want ErrInvalidGrant", name, err)
		}
	}
}

func TestCompare(t *testing.T) {
	t0 := time.Unix(100, 0)
	older := grants.Grant{ID: "z", CreatedAt: t0}
	newer := grants.Grant{ID: "a", CreatedAt: t0.Add(time.Second)}
	tieA, tieB := grants.Grant{ID: "a", CreatedAt: t0}, grants.Grant{ID: "b", CreatedAt: t0}
	if grants.Compare(older, newer) >= 0 || grants.Compare(newer, older) <= 0 {
		t.Error("older grant does not sort first")
	}
	if grants.Compare(tieA, tieB) >= 0 || grants.Compare(tieA, tieA) != 0 {
		t.Error("equal CreatedAt is not ordered by ID")
	}
}
