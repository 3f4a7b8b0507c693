package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// MaxCallsLimit is the largest MaxCalls a rule may have. A sliding log keeps
// one timestamp per counted call, so a bucket holds at most MaxCalls
// timestamps (8 bytes each); the cap keeps one bucket under 8 MB.
const MaxCallsLimit = 1_000_000

// MaxWindow is the longest Window a rule may have. The bound keeps the
// limiter's nanosecond arithmetic far from overflow.
const MaxWindow = 100 * 365 * 24 * time.Hour

// Rule limits how many calls an agent may make in a sliding window.
//
// Every agent has its own count under every rule: AgentID "*" means "each
// agent may make MaxCalls calls", not "all agents together" (as in
// Tollgate). A Tool prefix rule such as "mcp:*" counts all matching tools of
// an agent together.
type Rule struct {
	// AgentID is the agent the rule applies to; "*" (or "") means any agent.
	AgentID string
	// Tool is the tool the rule applies to: "*" (or "") means any tool, a
	// value ending in "*" matches every tool starting with the text before
	// it ("mcp:*"), anything else matches exactly.
	Tool string
	// Effect restricts the rule to calls with this effect; "" (or "*") means
	// any effect.
	Effect tollgate.Effect
	// MaxCalls is how many calls the window admits (0 refuses every call);
	// at most MaxCallsLimit.
	MaxCalls int
	// Window is the length of the sliding window, at most MaxWindow.
	Window time.Duration

	// parsed remembers how window_seconds was written in YAML (60 or 60.0),
	// so the refusal reason prints it the way Tollgate does. It is ignored
	// once Window no longer equals the parsed value.
	parsed windowText
}

type windowText struct {
	window time.Duration
	text   string
}

// toolMatch is how a rule matches the tool name.
type toolMatch uint8

const (
	anyTool toolMatch = iota
	exactTool
	prefixTool
)

// rule is a validated Rule prepared for the hot path.
type rule struct {
	anyAgent bool
	agentID  string
	match    toolMatch
	tool     string // exact name or prefix, by match
	effect   tollgate.Effect
	maxCalls int
	window   int64 // nanoseconds
	// reason pieces, so a refusal only formats the counts and the agent.
	windowLabel, toolLabel, effectLabel string
}

func compile(i int, r Rule) (rule, error) {
	if msg := maxCallsProblem(int64(r.MaxCalls)); msg != "" {
		return rule{}, fmt.Errorf("ratelimit: rule %d: %s", i, msg)
	}
	switch {
	case r.Window <= 0:
		return rule{}, fmt.Errorf("ratelimit: rule %d: window must be > 0, got %v", i, r.Window)
	case r.Window > MaxWindow:
		return rule{}, fmt.Errorf("ratelimit: rule %d: window %v is too long; %s", i, r.Window, maxWindowHint)
	}
	c := rule{
		maxCalls:    r.MaxCalls,
		window:      int64(r.Window),
		windowLabel: windowLabel(r),
		toolLabel:   r.Tool,
		effectLabel: string(r.Effect),
	}
	switch r.AgentID {
	case "", "*":
		c.anyAgent = true
	default:
		c.agentID = r.AgentID
	}
	switch {
	case r.Tool == "" || r.Tool == "*":
		c.match, c.toolLabel = anyTool, "*"
	case strings.HasSuffix(r.Tool, "*"):
		c.match, c.tool = prefixTool, strings.TrimSuffix(r.Tool, "*")
	default:
		c.match, c.tool = exactTool, r.Tool
	}
	switch r.Effect {
	case "", "*":
		c.effectLabel = "*"
	default:
		if _, ok := tollgate.ParseEffect(string(r.Effect)); !ok {
			return rule{}, fmt.Errorf("ratelimit: rule %d: %s", i, effectProblem(string(r.Effect)))
		}
		c.effect = r.Effect
	}
	return c, nil
}

func (r *rule) matches(agentID string, req *tollgate.ToolRequest) bool {
	if !r.anyAgent && r.agentID != agentID {
		return false
	}
	if r.effect != "" && r.effect != req.Effect {
		return false
	}
	switch r.match {
	case exactTool:
		return req.Tool == r.tool
	case prefixTool:
		return strings.HasPrefix(req.Tool, r.tool)
	}
	return true
}

// reason is Tollgate's refusal text:
// Rate limit exceeded: 10/10 calls in 60s window (agent=demo-agent, tool=*, effect=*)
func (r *rule) reason(count int, agentID string) string {
	return "Rate limit exceeded: " + strconv.Itoa(count) + "/" + strconv.Itoa(r.maxCalls) +
		" calls in " + r.windowLabel + "s window (agent=" + agentID +
		", tool=" + r.toolLabel + ", effect=" + r.effectLabel + ")"
}

// windowLabel prints the window as Python prints the YAML number it came
// from: 60 stays "60", 60.0 stays "60.0", 0.5 is "0.5". Rules built in Go
// print whole seconds as an integer.
func windowLabel(r Rule) string {
	if r.parsed.text != "" && r.parsed.window == r.Window {
		return r.parsed.text
	}
	if r.Window%time.Second == 0 {
		return strconv.FormatInt(int64(r.Window/time.Second), 10)
	}
	return pycompat.FormatFloat(r.Window.Seconds())
}

// maxCallsProblem says what is wrong with a max_calls value ("" if nothing).
func maxCallsProblem(n int64) string {
	switch {
	case n < 0:
		return fmt.Sprintf("max_calls must be >= 0, got %d (0 refuses every call)", n)
	case n > MaxCallsLimit:
		return fmt.Sprintf("max_calls must be at most %d, got %d (a sliding log keeps one timestamp per call; express the limit over a shorter window)", MaxCallsLimit, n)
	}
	return ""
}

var maxWindowHint = fmt.Sprintf("the most is %d seconds (100 years)", MaxWindow/time.Second)

func effectProblem(s string) string {
	return fmt.Sprintf("effect %q is not an effect; use one of read, write, delete, notify, unknown (lower-case), or \"*\" for any effect", s)
}
