package tower

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/netguard"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/ratelimit"
)

func TestAllowRunsToolOnceAndAuditsBeforeAndAfter(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	runs := 0
	res, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), func(ctx context.Context) (any, error) {
		runs++
		if a, ok := identity.FromContext(ctx); !ok || a.ID != "agent-1" {
			t.Errorf("tool context lacks the agent: %+v %v", a, ok)
		}
		return "ok", nil
	})
	if err != nil || res != "ok" || runs != 1 {
		t.Fatalf("res=%v err=%v runs=%d", res, err, runs)
	}
	got := rec.outcomes()
	if len(got) != 2 || got[0] != tollgate.OutcomeAuthorized || got[1] != tollgate.OutcomeExecuted {
		t.Fatalf("outcomes = %v", got)
	}
	e := rec.last(t)
	if e.ResultSummary != "ok" || len(e.RequestHash) != 64 || e.CorrelationID == "" || e.ManifestVersion != "1.0.0" {
		t.Errorf("event = %+v", e)
	}
}

func TestDenyBlocksWithoutRunning(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Deny)})
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), func(context.Context) (any, error) {
		t.Fatal("tool ran")
		return nil, nil
	})
	te := wantRefusal(t, err, tollgate.ReasonPolicyDenied)
	if te.Message != "Tool call denied: mock DENY" || te.PolicyID != "mock" {
		t.Errorf("refusal = %+v", te)
	}
	if got := rec.outcomes(); len(got) != 1 || got[0] != tollgate.OutcomeBlocked {
		t.Fatalf("outcomes = %v", got)
	}
}

func TestTrustedMetadataComesFromManifest(t *testing.T) {
	var seen tollgate.ToolRequest
	pol := policy.EvaluatorFunc(func(_ tollgate.Agent, _ tollgate.Intent, r tollgate.ToolRequest) tollgate.Decision {
		seen = r
		if r.Effect == tollgate.EffectRead && r.ManifestVersion != "" {
			return tollgate.Decision{Type: tollgate.Allow, Reason: "reads ok"}
		}
		return tollgate.Decision{Type: tollgate.Deny, Reason: "no"}
	})
	tw, _ := newTower(t, &Config{Policy: pol})
	// The caller claims a harmless read with a manifest version; the
	// manifest says api:delete deletes. Tollgate believed the caller.
	lie := req("api:delete")
	lie.Effect, lie.ResourceType, lie.ManifestVersion = tollgate.EffectRead, "nothing", "9.9"
	_, err := tw.Execute(context.Background(), agent, intent, lie, ok)
	wantRefusal(t, err, tollgate.ReasonPolicyDenied)
	if seen.Effect != tollgate.EffectDelete || seen.ResourceType != "thing" || seen.ManifestVersion != "1.0.0" {
		t.Errorf("policy saw %+v", seen)
	}
	// An unknown tool is effect unknown without a manifest version.
	unknown := req("api:nope")
	unknown.Effect, unknown.ManifestVersion = tollgate.EffectRead, "1.0.0"
	_, err = tw.Execute(context.Background(), agent, intent, unknown, ok)
	wantRefusal(t, err, tollgate.ReasonPolicyDenied)
	if seen.Effect != tollgate.EffectUnknown || seen.ManifestVersion != "" {
		t.Errorf("policy saw %+v", seen)
	}
}

func TestAskOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		result  approvals.Result
		reason  tollgate.Reason
		outcome tollgate.Outcome
		message string
	}{
		{"approved", approvals.Result{Outcome: approvals.OutcomeApproved}, "", tollgate.OutcomeExecuted, ""},
		{"denied", approvals.Result{Outcome: approvals.OutcomeDenied}, tollgate.ReasonApprovalDenied, tollgate.OutcomeApprovalDenied, "Approval failed: denied"},
		{"timeout", approvals.Result{Outcome: approvals.OutcomeTimeout}, tollgate.ReasonApprovalDenied, tollgate.OutcomeTimeout, "Approval failed: timeout"},
		{"deferred", approvals.Result{Outcome: approvals.OutcomeDeferred, ApprovalID: "ap-1"}, tollgate.ReasonApprovalPending, tollgate.OutcomeBlocked, "Tool call deferred. Approval ID: ap-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var asked approvals.Request
			appr := approvals.ApproverFunc(func(_ context.Context, r approvals.Request) (approvals.Result, error) {
				asked = r
				return c.result, nil
			})
			tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Ask)}, WithApprover(appr))
			res, err := tw.Execute(context.Background(), agent, intent, req("mock:write"), ok)
			if c.reason == "" {
				if err != nil || res != "ok" {
					t.Fatalf("res=%v err=%v", res, err)
				}
			} else {
				te := wantRefusal(t, err, c.reason)
				if te.Message != c.message {
					t.Errorf("message = %q", te.Message)
				}
				if c.name == "deferred" && te.ApprovalID != "ap-1" {
					t.Errorf("approval id = %q", te.ApprovalID)
				}
			}
			if e := rec.last(t); e.Outcome != c.outcome || e.Decision.Type != tollgate.Ask {
				t.Errorf("event outcome=%s decision=%s", e.Outcome, e.Decision.Type)
			}
			if asked.RequestHash == "" || asked.ToolRequest.Effect != tollgate.EffectWrite || asked.Reason != "mock ASK" {
				t.Errorf("approver asked %+v", asked)
			}
		})
	}
}

func TestAskDefaultApproverFailsClosed(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Ask)})
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:write"), ok)
	wantRefusal(t, err, tollgate.ReasonApprovalDenied)
	if rec.last(t).Outcome != tollgate.OutcomeApprovalDenied {
		t.Error("not audited as approval_denied")
	}
}

func TestGrantBypassesApproverAndIsRecorded(t *testing.T) {
	store := grants.NewMemory()
	now := time.Unix(1_800_000_000, 0)
	g, err := store.Create(context.Background(), grants.Grant{AgentID: "agent-1", Tool: "mock:*", ExpiresAt: now.Add(time.Hour), CreatedAt: now, GrantedBy: "alice", MaxUses: 1})
	if err != nil {
		t.Fatal(err)
	}
	appr := approvals.ApproverFunc(func(context.Context, approvals.Request) (approvals.Result, error) {
		t.Error("approver called although a grant matches")
		return approvals.Result{Outcome: approvals.OutcomeDenied}, nil
	})
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Ask)}, WithGrants(store), WithApprover(appr))
	if _, err := tw.Execute(context.Background(), agent, intent, req("mock:write"), ok); err != nil {
		t.Fatal(err)
	}
	if e := rec.last(t); e.GrantID != g.ID || e.Outcome != tollgate.OutcomeExecuted {
		t.Errorf("event grant=%q outcome=%s", e.GrantID, e.Outcome)
	}
	// MaxUses 1: the second call goes to the approver, which is now allowed to deny.
	tw2, _ := newTower(t, &Config{Policy: fixed(tollgate.Ask)}, WithGrants(store))
	_, err = tw2.Execute(context.Background(), agent, intent, req("mock:write"), ok)
	wantRefusal(t, err, tollgate.ReasonApprovalDenied)
}

func TestIdentityStage(t *testing.T) {
	secret := []byte("agent-signing-key-67890")
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(identity.NewLegacyHMAC(secret)))
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	te := wantRefusal(t, err, tollgate.ReasonIdentityInvalid)
	if te.Message != "Tool call denied: Agent identity verification failed." || te.Stage != tollgate.StageIdentity {
		t.Errorf("refusal = %+v", te)
	}
	if e := rec.last(t); e.Outcome != tollgate.OutcomeBlocked || e.Decision.Reason != "Agent identity verification failed." {
		t.Errorf("event = %+v", e)
	}
	signed := identity.SignLegacy(agent, secret)
	if _, err := tw.Execute(context.Background(), signed, intent, req("mock:run"), ok); err != nil {
		t.Fatal(err)
	}
	if _, has := rec.last(t).Agent.Metadata.Get("_signature"); has {
		t.Error("the static signature reached the audit event")
	}
}

func TestRateLimitRefusesWithRetryAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	lim, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{{AgentID: "*", Tool: "*", MaxCalls: 1, Window: time.Minute}}, ratelimit.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow), Limiter: lim})
	if _, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok); err != nil {
		t.Fatal(err)
	}
	_, err = tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	te := wantRefusal(t, err, tollgate.ReasonRateLimited)
	if te.RetryAfter != time.Minute || !strings.HasPrefix(te.Message, "Rate limited: Rate limit exceeded") || !strings.HasSuffix(te.Message, "(retry after 60.0s)") {
		t.Errorf("refusal = %+v", te)
	}
	blocked := 0
	for _, o := range rec.outcomes() {
		if o == tollgate.OutcomeBlocked {
			blocked++
		}
	}
	if blocked != 1 {
		t.Errorf("blocked events = %d, want 1", blocked)
	}
}

var errTool = errors.New("backend down")

func TestBreakerCountsOnlyToolFailures(t *testing.T) {
	br, err := breaker.New(breaker.Settings{FailureThreshold: 3, Cooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithBreaker(br))
	fail := func(context.Context) (any, error) { return nil, errTool }
	for i := 0; i < 3; i++ {
		if _, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), fail); err != errTool {
			t.Fatalf("call %d: err = %v, want the tool's own error unchanged", i, err)
		}
	}
	if e := rec.last(t); e.Outcome != tollgate.OutcomeFailed || e.ResultSummary != "errorString: Execution failed" {
		t.Errorf("failure event = %+v", e)
	}
	_, err = tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	te := wantRefusal(t, err, tollgate.ReasonCircuitOpen)
	if te.RetryAfter <= 0 || !strings.Contains(te.Message, "Circuit OPEN") {
		t.Errorf("refusal = %+v", te)
	}

	// Denials never trip a breaker.
	deny, _ := newTower(t, &Config{Policy: fixed(tollgate.Deny)}, WithBreaker(br))
	for i := 0; i < 10; i++ {
		_, _ = deny.Execute(context.Background(), agent, intent, req("mock:write"), ok)
	}
	if s := br.State("mock:write"); s != "closed" {
		t.Errorf("breaker for denied tool = %s", s)
	}
}

func TestNetworkGuardRunsAfterPolicyUnlessDenied(t *testing.T) {
	g, err := netguard.New(netguard.Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}})
	if err != nil {
		t.Fatal(err)
	}
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow), Guard: g})
	_, err = tw.Execute(context.Background(), agent, intent, req("mock:run", tollgate.Field{Key: "url", Value: "https://evil.com/x"}), ok)
	te := wantRefusal(t, err, tollgate.ReasonNetworkBlocked)
	if !strings.HasPrefix(te.Message, "Constraint violation: Network policy violation: ") || len(te.Violations) != 1 {
		t.Errorf("refusal = %+v", te)
	}
	if rec.last(t).Outcome != tollgate.OutcomeBlocked {
		t.Error("not audited")
	}
	if _, err := tw.Execute(context.Background(), agent, intent, req("mock:run", tollgate.Field{Key: "url", Value: "https://api.github.com/users"}), ok); err != nil {
		t.Fatal(err)
	}
	deny, _ := newTower(t, &Config{Policy: fixed(tollgate.Deny), Guard: g})
	_, err = deny.Execute(context.Background(), agent, intent, req("mock:run", tollgate.Field{Key: "url", Value: "https://evil.com/x"}), ok)
	wantRefusal(t, err, tollgate.ReasonPolicyDenied)
}

func TestSchemaAndConstraints(t *testing.T) {
	tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	_, err := tw.Execute(context.Background(), agent, intent, req("api:write_file", tollgate.Field{Key: "path", Value: "/unsafe/x"}), ok)
	te := wantRefusal(t, err, tollgate.ReasonParamsInvalid)
	if !strings.HasPrefix(te.Message, "Tool call denied: Parameter validation failed: ") || len(te.Violations) == 0 {
		t.Errorf("refusal = %+v", te)
	}
	if _, err := tw.Execute(context.Background(), agent, intent, req("api:write_file", tollgate.Field{Key: "path", Value: "/safe/x"}), ok); err != nil {
		t.Fatal(err)
	}
	_, err = tw.Execute(context.Background(), agent, intent, req("api:fetch", tollgate.Field{Key: "url", Value: "https://evil.com/steal"}), ok)
	te = wantRefusal(t, err, tollgate.ReasonConstraintViolated)
	if strings.Count(te.Message, "Constraint violation: ") != 1 {
		t.Errorf("message = %q (Tollgate doubled the prefix)", te.Message)
	}
	// ASK is validated too, before any approver sees it.
	asked := false
	ask, _ := newTower(t, &Config{Policy: fixed(tollgate.Ask)}, WithApprover(approvals.ApproverFunc(func(context.Context, approvals.Request) (approvals.Result, error) {
		asked = true
		return approvals.Result{Outcome: approvals.OutcomeApproved}, nil
	})))
	_, err = ask.Execute(context.Background(), agent, intent, req("api:write_file", tollgate.Field{Key: "path", Value: "/etc/passwd"}), ok)
	wantRefusal(t, err, tollgate.ReasonParamsInvalid)
	if asked {
		t.Error("approver saw an invalid call")
	}
}

func TestAuditFailureBeforeExecutionRefuses(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	rec.fail = func(e *audit.Event) error {
		if e.Outcome == tollgate.OutcomeAuthorized {
			return errors.New("disk full")
		}
		return nil
	}
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), func(context.Context) (any, error) {
		t.Fatal("tool ran without an audit record")
		return nil, nil
	})
	te := wantRefusal(t, err, tollgate.ReasonInternal)
	if te.Stage != tollgate.StageAudit || strings.Contains(te.Message, "disk") {
		t.Errorf("refusal = %+v", te)
	}
}

func TestAuditFailureIsCounted(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Deny)})
	rec.fail = func(*audit.Event) error { return errors.New("disk full") }
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	te := wantRefusal(t, err, tollgate.ReasonPolicyDenied)
	// The refusal stands for the caller; the failed write is surfaced in
	// its internal cause (logged by the front door) and counted.
	if te.Err == nil || !strings.Contains(te.Err.Error(), "disk full") || strings.Contains(te.Message, "disk") {
		t.Errorf("refusal = %+v, want the audit failure in Err only", te)
	}
	if n := tw.AuditFailures(); n != 1 {
		t.Errorf("AuditFailures after a failed refusal record = %d, want 1", n)
	}

	tw2, rec2 := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	rec2.fail = func(*audit.Event) error { return errors.New("disk full") }
	_, _ = tw2.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	if n := tw2.AuditFailures(); n != 1 {
		t.Errorf("AuditFailures after a failed authorized record = %d, want 1", n)
	}
	rec2.fail = func(e *audit.Event) error {
		if e.Outcome == tollgate.OutcomeExecuted {
			return errors.New("disk full")
		}
		return nil
	}
	if _, err := tw2.Execute(context.Background(), agent, intent, req("mock:run"), ok); err != nil {
		t.Fatalf("a failed outcome record must not change the tool's result: %v", err)
	}
	if n := tw2.AuditFailures(); n != 2 {
		t.Errorf("AuditFailures after a failed outcome record = %d, want 2", n)
	}
}

func TestPanicsBecomeAuditedErrors(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	_, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), func(context.Context) (any, error) {
		panic("secret internals")
	})
	te := wantRefusal(t, err, tollgate.ReasonToolFailed)
	if strings.Contains(te.Message, "secret") {
		t.Errorf("panic text leaked: %q", te.Message)
	}
	if rec.last(t).Outcome != tollgate.OutcomeFailed {
		t.Error("tool panic not audited as failed")
	}

	boom := policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision { panic("policy bug") })
	tw2, rec2 := newTower(t, &Config{Policy: boom})
	_, err = tw2.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	te = wantRefusal(t, err, tollgate.ReasonInternal)
	if te.Stage != tollgate.StagePolicy || rec2.last(t).Outcome != tollgate.OutcomeBlocked {
		t.Errorf("refusal = %+v", te)
	}
}

func TestCanceledContextIsRefusedAndAudited(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tw.Execute(ctx, agent, intent, req("mock:run"), ok)
	te := wantRefusal(t, err, tollgate.ReasonCanceled)
	if !errors.Is(te, context.Canceled) || rec.last(t).Outcome != tollgate.OutcomeBlocked {
		t.Errorf("refusal = %+v", te)
	}
}

func TestDecideDoesNotRunOrAudit(t *testing.T) {
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Ask)})
	v := tw.Decide(context.Background(), Call{Credentials: identity.Credentials{Claimed: agent}, Intent: intent, Request: req("mock:write")})
	if v.Err != nil || v.Decision.Type != tollgate.Ask || v.Request.Effect != tollgate.EffectWrite {
		t.Errorf("verdict = %+v", v)
	}
	if len(rec.outcomes()) != 0 {
		t.Error("Decide wrote audit records")
	}
}

func TestConcurrentCalls(t *testing.T) {
	lim, _ := ratelimit.NewSlidingWindow([]ratelimit.Rule{{AgentID: "*", Tool: "*", MaxCalls: 50, Window: time.Hour}})
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow), Limiter: lim})
	var ran atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = tw.Execute(context.Background(), agent, intent, req("mock:run"), func(context.Context) (any, error) {
				ran.Add(1)
				return nil, nil
			})
		}()
	}
	wg.Wait()
	if ran.Load() != 50 {
		t.Errorf("ran %d calls, want exactly the 50 the limit allows", ran.Load())
	}
	if n := len(rec.outcomes()); n != 150 {
		t.Errorf("audit events = %d, want 150 (50×2 + 50 refusals)", n)
	}
}

func TestSwapReplacesConfiguration(t *testing.T) {
	tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Deny)})
	if err := tw.Swap(&Config{Policy: fixed(tollgate.Allow), Manifest: manifest(t)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Execute(context.Background(), agent, intent, req("mock:run"), ok); err != nil {
		t.Fatal(err)
	}
	if err := tw.Swap(&Config{}); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("Swap without policy: %v", err)
	}
}

func TestSummaryIsCut(t *testing.T) {
	long := strings.Repeat("é", 250)
	if got := summarize(long); len([]rune(got)) != 203 || !strings.HasSuffix(got, "...") {
		t.Errorf("summary has %d runes", len([]rune(got)))
	}
	if got := summarize(map[string]int{"a": 1}); got != `{"a":1}` {
		t.Errorf("summary = %q", got)
	}
	if got := summarize(nil); got != "" {
		t.Errorf("nil summary = %q", got)
	}
	if got := summarize(fmt.Errorf("x")); got != "x" {
		t.Errorf("stringer summary = %q", got)
	}
}

func TestCorrelationIDsAreUUIDv4(t *testing.T) {
	tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := tw.newID()
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || strings.Count(id, "-") != 4 {
			t.Fatalf("not a UUIDv4: %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestUnreadableCredentialsAreRefusedAtIdentity(t *testing.T) {
	bad := Call{Credentials: identity.Credentials{}, Intent: intent, Request: req("mock:run"), CredentialsErr: errors.New("malformed x-tollgate-agent header")}
	tw, rec := newTower(t, &Config{Policy: fixed(tollgate.Allow)})
	_, err := tw.ExecuteCall(context.Background(), bad, func(context.Context) (any, error) {
		t.Fatal("ran with unreadable credentials")
		return nil, nil
	})
	te := wantRefusal(t, err, tollgate.ReasonIdentityInvalid)
	if te.Stage != tollgate.StageIdentity || rec.last(t).Outcome != tollgate.OutcomeBlocked {
		t.Errorf("refusal = %+v, outcome %s", te, rec.last(t).Outcome)
	}
	// A verifier that proves an identity from other credentials decides.
	byToken := identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) { return agent, nil })
	tw2, _ := newTower(t, &Config{Policy: fixed(tollgate.Allow)}, WithVerifier(byToken))
	if _, err := tw2.ExecuteCall(context.Background(), bad, ok); err != nil {
		t.Fatalf("verified by token: %v", err)
	}
}
