package grants

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Grant lets matching ASK calls run without approval until it expires, is
// revoked or is used up. An empty matching field matches anything.
type Grant struct {
	ID      string
	AgentID string          // "" matches any agent
	Effect  tollgate.Effect // "" matches any effect
	// Tool is matched exactly, except that a trailing "*" matches every
	// tool starting with the text before it ("mcp:*"; "*" alone matches
	// every tool). "" matches any tool.
	Tool         string
	Action       string // "" matches any action
	ResourceType string // "" matches any resource type

	ExpiresAt time.Time // required; the grant is dead from this instant on
	CreatedAt time.Time // orders grants: the oldest matching grant is used first
	GrantedBy string    // who issued it (free text, for the audit trail)
	Reason    string

	MaxUses int  // 0 means unlimited
	Uses    int  // how many calls the grant has let through
	Revoked bool // a revoked grant is kept for the record but never matches
}

// Matches reports whether g's fields cover the call (Tollgate §11.1). It
// ignores liveness; see Active. Like Tollgate it does not look at the
// agent's version, owner or delegation chain, the intent, or the params.
func (g Grant) Matches(agent tollgate.Agent, req tollgate.ToolRequest) bool {
	return g.matches(&agent, &req)
}

// matches is Matches without copying its arguments, for store scans.
func (g *Grant) matches(agent *tollgate.Agent, req *tollgate.ToolRequest) bool {
	return matchField(g.AgentID, agent.ID) &&
		matchField(string(g.Effect), string(req.Effect)) &&
		matchTool(g.Tool, req.Tool) &&
		matchField(g.Action, req.Action) &&
		matchField(g.ResourceType, req.ResourceType)
}

func matchField(want, got string) bool { return want == "" || want == got }

func matchTool(pattern, tool string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(tool, prefix)
	}
	return matchField(pattern, tool)
}

// Active reports whether g may still be used at now: not revoked, not
// expired (ExpiresAt after now; a grant expiring exactly now is dead, as in
// Tollgate) and not used up.
func (g Grant) Active(now time.Time) bool {
	return !g.Revoked && g.ExpiresAt.After(now) && (g.MaxUses == 0 || g.Uses < g.MaxUses)
}

// ErrInvalidGrant is wrapped by the errors Validate returns.
var ErrInvalidGrant = errors.New("grants: invalid grant")

// Validate reports a grant that can never be used as intended: a missing
// expiry, an unknown effect, or negative use counts. Stores call it in
// Create so that a typo fails loudly instead of silently matching nothing.
func (g Grant) Validate() error {
	if g.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: ExpiresAt is required; set when the grant should stop working", ErrInvalidGrant)
	}
	if g.Effect != "" {
		if _, ok := tollgate.ParseEffect(string(g.Effect)); !ok {
			return fmt.Errorf("%w: effect %q is not one of read, write, delete, notify, unknown (or empty for any)", ErrInvalidGrant, g.Effect)
		}
	}
	if g.MaxUses < 0 {
		return fmt.Errorf("%w: MaxUses is %d; use 0 for unlimited or a positive limit", ErrInvalidGrant, g.MaxUses)
	}
	return nil
}

// Compare orders grants oldest first (CreatedAt), then by ID: the order in
// which a Store tries matching grants, and in which List returns them.
func Compare(a, b Grant) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
