package tower

import (
	"runtime/debug"
	"sync/atomic"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/registry"
)

// shadowState is a Tower's shadow mode: the candidate and how often it
// disagreed.
type shadowState struct {
	cfg           atomic.Pointer[Config]
	disagreements atomic.Uint64
}

// shadowResult is a flight's candidate decision, kept only when it
// disagrees with the enforced one (it lives in the flight so that
// recording it costs no allocation).
type shadowResult struct {
	rec audit.Shadow
	set bool
}

// WithShadow starts the Tower in shadow mode with candidate (see
// Tower.SetShadow); nil leaves it off. A candidate without a policy makes
// New fail.
func WithShadow(candidate *Config) Option {
	return func(t *Tower) {
		if candidate != nil {
			c := *candidate
			t.shadow.cfg.Store(&c)
		}
	}
}

// SetShadow evaluates candidate's policy on every call beside the enforced
// one, from the next call on; nil turns shadow mode off.
//
// The candidate only watches: it never changes a call's result, refusal
// or audit decision, and it has no side effects — its rate limiter and
// network guard are not consulted, and no grant use, approval or rate-limit
// token is spent on its behalf. Its policy decides the same request the
// enforced policy sees: the verified agent, and the tool's trusted
// metadata from the candidate's manifest (the enforced manifest when the
// candidate has none). Calls refused before the policy stage (kill switch,
// identity, breaker, rate limit) are not shadowed.
//
// When the candidate's decision type or rule differs from the enforced
// policy's, the call's audit records carry it as "shadow": {decision,
// rule, reason}, and ShadowDisagreements counts the call.
func (t *Tower) SetShadow(candidate *Config) error {
	if candidate == nil {
		t.shadow.cfg.Store(nil)
		return nil
	}
	if candidate.Policy == nil {
		return ErrNoPolicy
	}
	c := *candidate
	t.shadow.cfg.Store(&c)
	return nil
}

// Shadow returns the candidate configuration, nil when shadow mode is off.
func (t *Tower) Shadow() *Config { return t.shadow.cfg.Load() }

// ShadowDisagreements returns how many calls the candidate decided
// differently from the enforced policy (decision type or rule).
func (t *Tower) ShadowDisagreements() uint64 { return t.shadow.disagreements.Load() }

// evaluateShadow has the candidate decide the call the enforced policy has
// just decided, and keeps its decision when they disagree. A panic in the
// candidate is logged and forgotten: it must not refuse a call.
func (f *flight) evaluateShadow() {
	c := f.t.shadow.cfg.Load()
	if c == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			f.t.log.Error("tollgate: panic in the shadow policy", "tool", f.req.Tool, "correlation_id", f.correlationID, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	req := f.req
	if c.Manifest != nil && c.Manifest != f.cfg.Manifest {
		trust(c.Manifest, &req)
	}
	d := c.Policy.Evaluate(f.agent, f.call.Intent, req)
	if d.Type == f.decision.Type && d.PolicyID == f.decision.PolicyID {
		return
	}
	f.t.shadow.disagreements.Add(1)
	f.shadow = shadowResult{rec: audit.Shadow{Decision: string(d.Type), Rule: d.PolicyID, Reason: d.Reason}, set: true}
}

// trust replaces whatever metadata req claims with m's for its tool
// (effect unknown when m does not know it) and returns that tool.
func trust(m *registry.Manifest, req *tollgate.ToolRequest) *registry.Tool {
	req.Effect, req.ResourceType, req.ManifestVersion = tollgate.EffectUnknown, "unknown", ""
	if m == nil {
		return nil
	}
	tool, ok := m.Resolve(req.Tool)
	if !ok {
		return nil
	}
	req.Effect, req.ResourceType, req.ManifestVersion = tool.Effect, tool.ResourceType, m.Version()
	return tool
}
