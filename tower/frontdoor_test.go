package tower

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

var errDeep = errors.New("json: nesting deeper than 100 levels")

func frontDoorRefusal() *tollgate.Error {
	return &tollgate.Error{
		Reason:     tollgate.ReasonParamsInvalid,
		Message:    "Tool call denied: the request cannot be rendered as params.",
		Violations: []tollgate.Violation{{Field: "params", Description: "too deep"}},
		Err:        errDeep,
	}
}

// A refusal a front door makes on its own is audited like every other
// exit: blocked, with its stage and reason, the verified agent, the tool's
// trusted metadata and a request hash.
func TestRefuseIsAudited(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(identity.NewLegacyHMAC([]byte("k"))))
	signed := identity.SignLegacy(agent, []byte("k"))
	call := Call{Credentials: identity.Credentials{Claimed: signed}, Intent: intent, Request: req("api:delete")}

	e := tw.Refuse(context.Background(), call, frontDoorRefusal())
	wantRefusal(t, e, tollgate.ReasonParamsInvalid)
	if e.Stage != tollgate.StageFrontDoor || e.Tool != "api:delete" || len(e.Violations) != 1 || !errors.Is(e, errDeep) {
		t.Errorf("refusal = %+v", e)
	}
	got := rec.last(t)
	if got.Outcome != tollgate.OutcomeBlocked || got.Stage != tollgate.StageFrontDoor || got.ReasonCode != tollgate.ReasonParamsInvalid {
		t.Errorf("record: outcome %s stage %s reason %s", got.Outcome, got.Stage, got.ReasonCode)
	}
	if got.Agent.ID != agent.ID || got.ToolRequest.Effect != tollgate.EffectDelete || got.RequestHash == "" || got.CorrelationID != e.CorrelationID {
		t.Errorf("record = %+v", got)
	}
	if got.Decision.Type != tollgate.Deny || got.Decision.Reason != e.Message {
		t.Errorf("decision = %+v", got.Decision)
	}
}

// Credentials that do not verify are refused at the identity stage, as the
// pipeline would: the front door's reason is not revealed to the caller.
func TestRefuseUnverifiedCaller(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(identity.NewLegacyHMAC([]byte("k"))))
	call := Call{Credentials: identity.Credentials{Claimed: agent}, Intent: intent, Request: req("api:delete")}
	e := tw.Refuse(context.Background(), call, frontDoorRefusal())
	wantRefusal(t, e, tollgate.ReasonIdentityInvalid)
	if got := rec.last(t); got.Stage != tollgate.StageIdentity || got.ReasonCode != tollgate.ReasonIdentityInvalid {
		t.Errorf("record: stage %s reason %s", got.Stage, got.ReasonCode)
	}
}

// A refusal without a reason is a front door's bug: recorded and returned
// as INTERNAL, never a panic or an unaudited exit.
func TestRefuseWithoutReason(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	for _, refusal := range []*tollgate.Error{nil, {Message: "no reason"}} {
		e := tw.Refuse(context.Background(), Call{Credentials: identity.Credentials{Claimed: agent}, Request: req("mock:run")}, refusal)
		wantRefusal(t, e, tollgate.ReasonInternal)
		if e.Message != internalMessage {
			t.Errorf("message %q", e.Message)
		}
		if got := rec.last(t); got.Stage != tollgate.StageFrontDoor || got.ReasonCode != tollgate.ReasonInternal {
			t.Errorf("record: stage %s reason %s", got.Stage, got.ReasonCode)
		}
	}
}

// A verifier that panics is a refusal, recorded, as in the pipeline.
func TestRefusePanickingVerifier(t *testing.T) {
	boom := identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) { panic("boom") })
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(boom))
	e := tw.Refuse(context.Background(), Call{Request: req("mock:run")}, frontDoorRefusal())
	wantRefusal(t, e, tollgate.ReasonInternal)
	if got := rec.last(t); got.Stage != tollgate.StageIdentity || got.Outcome != tollgate.OutcomeBlocked {
		t.Errorf("record: stage %s outcome %s", got.Stage, got.Outcome)
	}
}
