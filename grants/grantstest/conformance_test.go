package grantstest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/grants/grantstest"
)

// mutantEnv selects the broken store TestMutantSubprocess runs the suite on.
const mutantEnv = "GRANTSTEST_MUTANT"

// TestSuiteCatchesMutants proves that the suite has teeth: each deliberately
// broken store must make it fail, in the subtest named here. The suite runs
// in a child process because a failing subtest cannot be contained in-process.
func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for mutant, subtest := range map[string]string{
		"none":             "",
		"overwrite":        "CreateRefusesDuplicateID",
		"newest-first":     "OldestFirst",
		"expiry-inclusive": "ConsumeSkipsExpired",
		"ignore-max-uses":  "MaxUsesUnderConcurrency",
		"revoke-noop":      "Revoke",
		"no-prefix":        "ToolPrefix",
		"no-count":         "ConsumeExactMatchCountsUses",
		"zero-time-ok":     "ZeroTimeRefused",
	} {
		t.Run(mutant, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutantSubprocess$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+mutant)
			out, err := cmd.CombinedOutput()
			if subtest == "" {
				if err != nil {
					t.Fatalf("correct store failed the suite: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("suite passed a store with mutation %q", mutant)
			}
			if !strings.Contains(string(out), "--- FAIL: TestMutantSubprocess/"+subtest) {
				t.Errorf("mutation %q not caught by %s:\n%s", mutant, subtest, out)
			}
		})
	}
}

func TestMutantSubprocess(t *testing.T) {
	mutant := os.Getenv(mutantEnv)
	if mutant == "" {
		t.Skip("only run by TestSuiteCatchesMutants")
	}
	grantstest.RunConformance(t, func(*testing.T) grants.Store { return &naive{mutant: mutant} })
}

// naive is a deliberately simple Store; mutant names one behaviour to break.
type naive struct {
	mutant string
	mu     sync.Mutex
	all    []grants.Grant
	next   int
}

func (n *naive) find(id string) int {
	return slices.IndexFunc(n.all, func(g grants.Grant) bool { return g.ID == id })
}

func (n *naive) Create(ctx context.Context, g grants.Grant) (grants.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, err
	}
	if err := g.Validate(); err != nil {
		return grants.Grant{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if g.ID == "" {
		n.next++
		g.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", n.next)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now()
	}
	g.Uses, g.Revoked = 0, false
	if i := n.find(g.ID); i >= 0 {
		if n.mutant != "overwrite" {
			return grants.Grant{}, grants.ErrExists
		}
		n.all[i] = g
		return g, nil
	}
	n.all = append(n.all, g)
	slices.SortStableFunc(n.all, func(a, b grants.Grant) int {
		if n.mutant == "newest-first" {
			return grants.Compare(b, a)
		}
		return grants.Compare(a, b)
	})
	return g, nil
}

func (n *naive) active(g grants.Grant, now time.Time) bool {
	switch n.mutant {
	case "expiry-inclusive":
		return !g.Revoked && !g.ExpiresAt.Before(now) && (g.MaxUses == 0 || g.Uses < g.MaxUses)
	case "ignore-max-uses":
		return !g.Revoked && g.ExpiresAt.After(now)
	}
	return g.Active(now)
}

func (n *naive) matches(g grants.Grant, a tollgate.Agent, r tollgate.ToolRequest) bool {
	if n.mutant == "no-prefix" && g.Tool != "" && g.Tool != r.Tool {
		return false
	}
	return g.Matches(a, r)
}

func (n *naive) Consume(ctx context.Context, a tollgate.Agent, r tollgate.ToolRequest, now time.Time) (grants.Grant, bool, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, false, err
	}
	if now.IsZero() && n.mutant != "zero-time-ok" {
		return grants.Grant{}, false, grants.ErrZeroTime
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range n.all {
		if n.active(n.all[i], now) && n.matches(n.all[i], a, r) {
			if n.mutant != "no-count" {
				n.all[i].Uses++
			}
			return n.all[i], true, nil
		}
	}
	return grants.Grant{}, false, nil
}

func (n *naive) Revoke(_ context.Context, id string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.find(id)
	if i < 0 || n.all[i].Revoked {
		return false, nil
	}
	if n.mutant != "revoke-noop" {
		n.all[i].Revoked = true
	}
	return true, nil
}

func (n *naive) Get(_ context.Context, id string) (grants.Grant, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i := n.find(id); i >= 0 {
		return n.all[i], true, nil
	}
	return grants.Grant{}, false, nil
}

func (n *naive) List(_ context.Context, f grants.Filter) ([]grants.Grant, error) {
	if !f.IncludeInactive && f.Now.IsZero() {
		return nil, grants.ErrZeroTime
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []grants.Grant
	for _, g := range n.all {
		if (f.AgentID == "" || g.AgentID == f.AgentID) && (f.IncludeInactive || n.active(g, f.Now)) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (n *naive) CleanupExpired(_ context.Context, now time.Time) (int, error) {
	if now.IsZero() && n.mutant != "zero-time-ok" {
		return 0, grants.ErrZeroTime
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	before := len(n.all)
	n.all = slices.DeleteFunc(n.all, func(g grants.Grant) bool { return !g.ExpiresAt.After(now) })
	return before - len(n.all), nil
}
