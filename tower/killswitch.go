package tower

import (
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/killswitch"
)

// WithKillSwitches sets the kill switches every call is checked against
// (package killswitch). A global switch refuses a call before its
// credentials are verified, so even a call that would not verify is
// refused KILLED; agent, session and tool switches are checked right after
// verification, against the verified agent, its delegation chain and its
// token's session. A refusal is KILLED at stage killswitch, audited like
// every refusal; the message names the switch and its scope, while its
// reason goes to the audit record only. When s cannot vouch for its state
// (killswitch.ErrStale: a shared store out of reach for too long) every
// call is refused INTERNAL at stage killswitch rather than risk missing a
// switch.
func WithKillSwitches(s killswitch.Source) Option { return func(t *Tower) { t.kills = s } }

// checkGlobalKill reads the switches in force and refuses the call when a
// global one covers it. It returns the switches for checkKill.
func (f *flight) checkGlobalKill() (*killswitch.Matcher, *tollgate.Error) {
	if f.t.kills == nil {
		return nil, nil
	}
	f.enter(tollgate.StageKillSwitch)
	m, err := f.t.kills.Matcher()
	if err != nil {
		e := f.block(tollgate.StageKillSwitch, tollgate.ReasonInternal, "Kill switch state unavailable.", internalMessage)
		e.Err = err
		return nil, e
	}
	if sw, ok := m.Global(f.t.now()); ok {
		return nil, f.killed(sw)
	}
	return m, nil
}

// checkKill refuses the call when a switch covers its verified agent,
// session or tool.
func (f *flight) checkKill(m *killswitch.Matcher) *tollgate.Error {
	if m.Len() == 0 {
		return nil
	}
	f.enter(tollgate.StageKillSwitch)
	if sw, ok := m.Match(f.agent, f.req.Tool, f.t.now()); ok {
		return f.killed(sw)
	}
	return nil
}

func (f *flight) killed(sw killswitch.Switch) *tollgate.Error {
	stopped := "Stopped by kill switch " + sw.ID + " (" + sw.Scope.String() + ")"
	return f.block(tollgate.StageKillSwitch, tollgate.ReasonKilled, stopped+": "+sw.Reason, "Tool call denied: "+stopped+".")
}
