package tower

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/killswitch"
)

// killTower is a Tower that allows everything, with kill switches from a
// memory store and a clock the test moves.
func killTower(t *testing.T, opts ...Option) (*Tower, *recorder, *killswitch.Memory, *atomic.Pointer[time.Time]) {
	t.Helper()
	store, err := killswitch.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Pointer[time.Time]
	start := time.Unix(1_800_000_000, 0)
	now.Store(&start)
	opts = append([]Option{WithKillSwitches(store), WithClock(func() time.Time { return *now.Load() })}, opts...)
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, opts...)
	return tw, rec, store, &now
}

func setSwitch(t *testing.T, s killswitch.Store, scope string, at time.Time, ttl time.Duration) killswitch.Switch {
	t.Helper()
	sc, err := killswitch.ParseScope(scope)
	if err != nil {
		t.Fatal(err)
	}
	sw := killswitch.Switch{Scope: sc, Reason: "incident 7", SetBy: "alice", SetAt: at}
	if ttl > 0 {
		sw.ExpiresAt = at.Add(ttl)
	}
	sw, err = s.Set(context.Background(), sw)
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

// A global switch refuses a call whose credentials would not verify, as
// KILLED, without asking the verifier, and the refusal is audited.
func TestKillSwitchGlobalRefusesUnauthenticated(t *testing.T) {
	var verified atomic.Int32
	refuseAll := identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) {
		verified.Add(1)
		return tollgate.Agent{}, identity.ErrInvalid
	})
	tw, rec, store, now := killTower(t, WithVerifier(refuseAll))
	call := Call{Intent: intent, Request: req("mock:run")}

	_, err := tw.ExecuteCall(context.Background(), call, ok)
	wantRefusal(t, err, tollgate.ReasonIdentityInvalid)

	sw := setSwitch(t, store, "global", *now.Load(), 0)
	_, err = tw.ExecuteCall(context.Background(), call, ok)
	e := wantRefusal(t, err, tollgate.ReasonKilled)
	if e.Stage != tollgate.StageKillSwitch || !strings.Contains(e.Message, sw.ID) || strings.Contains(e.Message, "incident 7") {
		t.Errorf("refusal = %+v; want stage killswitch, the switch id, not its reason", e)
	}
	if n := verified.Load(); n != 1 {
		t.Errorf("verifier called %d times, want once (not for the killed call)", n)
	}
	got := rec.last(t)
	if got.Outcome != tollgate.OutcomeBlocked || got.Stage != tollgate.StageKillSwitch || got.ReasonCode != tollgate.ReasonKilled ||
		got.Decision.Type != tollgate.Deny || !strings.Contains(got.Decision.Reason, "incident 7") || got.RequestHash == "" {
		t.Errorf("audit record = %+v", got)
	}
}

// Agent, delegation, session and tool switches are checked against the
// verified agent; calls they do not cover run.
func TestKillSwitchScopes(t *testing.T) {
	verifier := identity.VerifierFunc(func(_ context.Context, c identity.Credentials) (tollgate.Agent, error) {
		a := c.Claimed // the test's stand-in for a verified token
		return a, nil
	})
	tw, rec, store, now := killTower(t, WithVerifier(verifier))
	at := *now.Load()
	for _, scope := range []string{"agent:support-bot", "tool:api:*", "session:s-9"} {
		setSwitch(t, store, scope, at, 0)
	}
	for _, tc := range []struct {
		agent  tollgate.Agent
		tool   string
		killed bool
	}{
		{tollgate.Agent{ID: "support-bot"}, "mock:run", true},
		{tollgate.Agent{ID: "worker", DelegatedBy: []string{"support-bot"}}, "mock:run", true},
		{tollgate.Agent{ID: "worker", SessionID: "s-9"}, "mock:run", true},
		{tollgate.Agent{ID: "worker"}, "api:fetch", true},
		{tollgate.Agent{ID: "worker", SessionID: "s-10"}, "mock:run", false},
	} {
		_, err := tw.ExecuteCall(context.Background(), Call{Credentials: identity.Credentials{Claimed: tc.agent}, Intent: intent, Request: req(tc.tool)}, ok)
		if tc.killed {
			wantRefusal(t, err, tollgate.ReasonKilled)
			if got := rec.last(t); got.Agent.ID != tc.agent.ID || got.Stage != tollgate.StageKillSwitch {
				t.Errorf("%+v: audit record agent %q stage %q", tc.agent, got.Agent.ID, got.Stage)
			}
		} else if err != nil {
			t.Errorf("%+v calling %s: %v, want it to run", tc.agent, tc.tool, err)
		}
	}
}

// An expired switch lifts itself; a lifted one stops refusing at once.
func TestKillSwitchExpiresAndLifts(t *testing.T) {
	tw, _, store, now := killTower(t)
	start := *now.Load()
	setSwitch(t, store, "agent:agent-1", start, time.Minute)
	run := func() error {
		_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
		return err
	}
	wantRefusal(t, run(), tollgate.ReasonKilled)
	later := start.Add(time.Minute)
	now.Store(&later)
	if err := run(); err != nil {
		t.Fatalf("after expiry: %v, want the call to run", err)
	}

	sw := setSwitch(t, store, "tool:mock:run", later, 0)
	wantRefusal(t, run(), tollgate.ReasonKilled)
	if _, found, err := store.Lift(context.Background(), sw.ID); !found || err != nil {
		t.Fatalf("Lift: %v, %v", found, err)
	}
	if err := run(); err != nil {
		t.Fatalf("after Lift: %v, want the call to run", err)
	}
}

// staleSource is a Source that cannot vouch for its state.
type staleSource struct{}

func (staleSource) Matcher() (*killswitch.Matcher, error) {
	return nil, killswitch.ErrStale
}

// A source that cannot vouch for its switches refuses every call, audited.
func TestKillSwitchStaleFailsClosed(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithKillSwitches(staleSource{}))
	ran := false
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), func(context.Context) (any, error) { ran = true; return nil, nil })
	e := wantRefusal(t, err, tollgate.ReasonInternal)
	if ran || e.Stage != tollgate.StageKillSwitch || !errors.Is(e, killswitch.ErrStale) {
		t.Errorf("ran=%v refusal=%+v; want a refusal at stage killswitch wrapping ErrStale", ran, e)
	}
	if got := rec.last(t); got.Stage != tollgate.StageKillSwitch || got.Outcome != tollgate.OutcomeBlocked {
		t.Errorf("audit record stage %q outcome %q", got.Stage, got.Outcome)
	}
}

// A front door's own refusal of a killed call is recorded as KILLED: the
// switch stops the call whatever else is wrong with it.
func TestKillSwitchBeforeFrontDoorRefusal(t *testing.T) {
	tw, rec, store, now := killTower(t)
	setSwitch(t, store, "global", *now.Load(), 0)
	e := tw.Refuse(context.Background(), Call{Request: req("mock:run")}, frontDoorRefusal())
	wantRefusal(t, e, tollgate.ReasonKilled)
	if got := rec.last(t); got.ReasonCode != tollgate.ReasonKilled {
		t.Errorf("record reason %s, want KILLED", got.ReasonCode)
	}
}
