package killswitch

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Matcher is a set of switches compiled for the pipeline's check, which
// runs on every call: with no switch set it costs one comparison, and with
// switches set, a few map lookups and one prefix scan over the tool
// patterns ending in "*". It is immutable and safe for concurrent use; a
// nil *Matcher matches nothing.
type Matcher struct {
	n        int
	global   []*Switch
	agents   map[string][]*Switch
	sessions map[string][]*Switch
	tools    map[string][]*Switch // exact tool names
	prefixes []prefixSwitch       // tool patterns ending in "*", "*" itself being the empty prefix
}

type prefixSwitch struct {
	prefix string
	sw     *Switch
}

// Compile returns the Matcher of list. Each kind's switches are tried in
// SetAt order (then ID). An invalid switch (a store read something it
// cannot have written) is an error, so the caller keeps refusing rather
// than drop a switch it could not read.
func Compile(list []Switch) (*Matcher, error) {
	sorted := make([]*Switch, len(list))
	for i := range list {
		s := list[i]
		if err := s.Scope.Validate(); err != nil {
			return nil, fmt.Errorf("killswitch: switch %q: %w", s.ID, err)
		}
		sorted[i] = &s
	}
	slices.SortFunc(sorted, compare)
	m := &Matcher{n: len(sorted)}
	for _, s := range sorted {
		v := s.Scope.Value
		switch s.Scope.Kind {
		case KindGlobal:
			m.global = append(m.global, s)
		case KindAgent:
			m.agents = appendTo(m.agents, v, s)
		case KindSession:
			m.sessions = appendTo(m.sessions, v, s)
		case KindTool:
			if prefix, ok := strings.CutSuffix(v, "*"); ok {
				m.prefixes = append(m.prefixes, prefixSwitch{prefix, s})
			} else {
				m.tools = appendTo(m.tools, v, s)
			}
		}
	}
	return m, nil
}

func appendTo(m map[string][]*Switch, key string, s *Switch) map[string][]*Switch {
	if m == nil {
		m = make(map[string][]*Switch)
	}
	m[key] = append(m[key], s)
	return m
}

// Len returns how many switches m holds, in force or not.
func (m *Matcher) Len() int {
	if m == nil {
		return 0
	}
	return m.n
}

// Global returns the first global switch in force at now. The pipeline
// asks it before verifying the caller: a global switch refuses even calls
// whose credentials would not verify.
func (m *Matcher) Global(now time.Time) (Switch, bool) {
	if m.Len() == 0 {
		return Switch{}, false
	}
	return first(m.global, now)
}

// Match returns the first switch in force at now that stops a call of tool
// by agent (as verified), trying in turn: global switches, the agent's
// session (agent.SessionID), the agent's id and then each id of its
// delegation chain, the tool's exact name, and the tool patterns ending in
// "*".
func (m *Matcher) Match(agent tollgate.Agent, tool string, now time.Time) (Switch, bool) {
	if m.Len() == 0 {
		return Switch{}, false
	}
	if s, ok := first(m.global, now); ok {
		return s, true
	}
	if agent.SessionID != "" && m.sessions != nil {
		if s, ok := first(m.sessions[agent.SessionID], now); ok {
			return s, true
		}
	}
	if m.agents != nil {
		if s, ok := first(m.agents[agent.ID], now); ok {
			return s, true
		}
		for _, id := range agent.DelegatedBy {
			if s, ok := first(m.agents[id], now); ok {
				return s, true
			}
		}
	}
	if s, ok := first(m.tools[tool], now); ok {
		return s, true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(tool, p.prefix) && p.sw.InForce(now) {
			return *p.sw, true
		}
	}
	return Switch{}, false
}

func first(list []*Switch, now time.Time) (Switch, bool) {
	for _, s := range list {
		if s.InForce(now) {
			return *s, true
		}
	}
	return Switch{}, false
}
