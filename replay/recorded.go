package replay

import (
	"fmt"
	"strings"

	"github.com/tollgate-go/tollgate"
)

// recorded returns the verdict the log holds for rec.
func recorded(rec *record) (Verdict, error) {
	d := &rec.Decision
	typ, ok := tollgate.ParseDecisionType(d.Decision)
	if !ok {
		return Verdict{}, fmt.Errorf("audit: line %d: \"decision.decision\": want ALLOW, ASK or DENY, got %q", rec.line, d.Decision)
	}
	stage := tollgate.Stage(rec.Stage)
	if stage == "" && typ == tollgate.Deny && d.PolicyID == "" {
		stage = tollgateStage(d.Reason)
	}
	if stage == "" {
		stage = tollgate.StagePolicy
	}
	return Verdict{Decision: typ, Rule: d.PolicyID, Stage: stage, Reason: d.Reason}, nil
}

// tollgateStage tells, from its reason, which stage wrote a DENY without a
// rule in a log that has no stage key (Tollgate 1.4's): Tollgate records a
// refusal by any stage as a DENY decision with that stage's reason.
func tollgateStage(reason string) tollgate.Stage {
	for _, p := range tollgatePrefixes {
		if strings.HasPrefix(reason, p.prefix) {
			return p.stage
		}
	}
	return ""
}

var tollgatePrefixes = []struct {
	prefix string
	stage  tollgate.Stage
}{
	{"Agent identity verification failed", tollgate.StageIdentity},
	{"Circuit ", tollgate.StageBreaker}, // "Circuit OPEN for …", "Circuit breaker open."
	{"Rate limit exceeded", tollgate.StageRateLimit},
	{"Network policy violation: ", tollgate.StageNetwork},
	{"Parameter validation failed: ", tollgate.StageSchema},
	{"Constraint violation: ", tollgate.StageConstraints},
}

// skip says why a call whose recorded verdict is old cannot be compared,
// or "" when it can. Replay runs the policy, the network guard and, with a
// manifest, the schema and constraints; a refusal by any other stage — or
// an internal error or cancellation in any stage, which overwrote the
// decision — left no decision of those stages in the log.
func (r *Replayer) skip(old Verdict, code tollgate.Reason) string {
	switch {
	case code == tollgate.ReasonInternal || code == tollgate.ReasonCanceled:
		return fmt.Sprintf("refused by the %s stage (%s), which replay does not re-run", old.Stage, code)
	case old.Stage == tollgate.StagePolicy, old.Stage == tollgate.StageApproval, old.Stage == tollgate.StageNetwork:
		return ""
	case (old.Stage == tollgate.StageSchema || old.Stage == tollgate.StageConstraints) && r.manifest != nil:
		return ""
	case old.Stage == tollgate.StageSchema || old.Stage == tollgate.StageConstraints:
		return fmt.Sprintf("refused by the %s stage, which replay re-runs only with a manifest", old.Stage)
	}
	return fmt.Sprintf("refused by the %s stage, which replay does not re-run", old.Stage)
}
