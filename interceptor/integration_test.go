package interceptor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/identity"
)

func intent(action, reason string) tollgate.Intent {
	return tollgate.Intent{Action: action, Reason: reason}
}

// TestErrorContract drives every reason a call can be refused for through
// real servers and asserts the status code and details each client stack
// sees.
func TestErrorContract(t *testing.T) {
	type tcase struct {
		name   string
		tower  []towerOption
		server []Option
		agent  tollgate.Agent
		raw    bool // the call sends its own agent header
		// before runs first on the same tower (to exhaust a limit or trip
		// a breaker) and must succeed or fail as its own check says.
		before func(t *testing.T, ctx context.Context, c toolClient)
		call   func(ctx context.Context, c toolClient) error

		code     codes.Code
		reason   tollgate.Reason
		stage    tollgate.Stage
		policyID string
		msg      string // prefix of the message
		retry    bool
		fields   []string
		approval string
	}
	echoHi := func(ctx context.Context, c toolClient) error { _, err := c.Echo(ctx, "hi"); return err }
	cases := []tcase{
		{
			name: "identity invalid: bad signature", tower: []towerOption{withVerifier()},
			agent: identity.SignLegacy(testAgent, []byte("wrong secret")), call: echoHi,
			code: codes.Unauthenticated, reason: tollgate.ReasonIdentityInvalid, stage: tollgate.StageIdentity,
			msg: "Tool call denied: Agent identity verification failed.",
		},
		{
			name: "identity invalid: malformed agent header, verifier", tower: []towerOption{withVerifier()}, raw: true,
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Echo(withRawHeader(ctx, HeaderAgent, `{"agent_id": 1}`), "hi")
				return err
			},
			code: codes.Unauthenticated, reason: tollgate.ReasonIdentityInvalid, stage: tollgate.StageIdentity,
			msg: "Tool call denied: Agent identity verification failed.",
		},
		{
			name: "identity invalid: malformed agent header, no verifier", raw: true,
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Echo(withRawHeader(ctx, HeaderAgent, "not json"), "hi")
				return err
			},
			code: codes.Unauthenticated, reason: tollgate.ReasonIdentityInvalid, stage: tollgate.StageIdentity,
			msg: "Tool call denied: Agent identity verification failed.",
		},
		{
			name: "policy denied", agent: blockedAgent, call: echoHi,
			code: codes.PermissionDenied, reason: tollgate.ReasonPolicyDenied, stage: tollgate.StagePolicy,
			policyID: "deny_blocked_agent", msg: "Tool call denied: Agent is blocked",
		},
		{
			name:   "policy denied: method mapped to a tool the manifest lacks",
			server: []Option{WithToolNames(map[string]string{"/tollgate.test.v1.ToolService/Echo": "api:unknown"})},
			call:   echoHi,
			code:   codes.PermissionDenied, reason: tollgate.ReasonPolicyDenied, stage: tollgate.StagePolicy,
			msg: "Tool call denied: Unknown tool effect",
		},
		{
			name: "network blocked",
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Fetch(ctx, "https://blocked.example/x")
				return err
			},
			code: codes.PermissionDenied, reason: tollgate.ReasonNetworkBlocked, stage: tollgate.StageNetwork,
			policyID: "allow_reads", msg: "Constraint violation: Network policy violation", fields: []string{"url"},
		},
		{
			name: "rate limited", agent: limitedAgent,
			before: func(t *testing.T, ctx context.Context, c toolClient) {
				if _, err := c.Echo(ctx, "first"); err != nil {
					t.Fatalf("first call: %v", err)
				}
			},
			call: echoHi,
			code: codes.ResourceExhausted, reason: tollgate.ReasonRateLimited, stage: tollgate.StageRateLimit,
			msg: "Rate limited: ", retry: true,
		},
		{
			name: "circuit open",
			before: func(t *testing.T, ctx context.Context, c toolClient) {
				_, err := c.Echo(ctx, "fail")
				// The handler's own error passes through unchanged.
				if e := inspect(t, err); e.code != codes.Aborted || e.msg != toolFailure || e.info != nil {
					t.Fatalf("handler error = %+v, want Aborted %q without details", e, toolFailure)
				}
			},
			call: echoHi,
			code: codes.Unavailable, reason: tollgate.ReasonCircuitOpen, stage: tollgate.StageBreaker,
			msg: "Tool call denied: Circuit OPEN", retry: true,
		},
		{
			name: "params invalid",
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Echo(ctx, strings.Repeat("x", 65))
				return err
			},
			code: codes.InvalidArgument, reason: tollgate.ReasonParamsInvalid, stage: tollgate.StageSchema,
			policyID: "allow_reads", msg: "Tool call denied: Parameter validation failed", fields: []string{"message"},
		},
		{
			name: "constraint violated (server stream, at open)",
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Watch(ctx, "secrets", 3)
				return err
			},
			code: codes.InvalidArgument, reason: tollgate.ReasonConstraintViolated, stage: tollgate.StageConstraints,
			policyID: "allow_reads", msg: "Constraint violation: Parameter 'topic'", fields: []string{"topic"},
		},
		{
			// An empty url is rendered as "", which required accepts and
			// minLength refuses.
			name: "params invalid: an empty string",
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Fetch(ctx, "")
				return err
			},
			code: codes.InvalidArgument, reason: tollgate.ReasonParamsInvalid, stage: tollgate.StageSchema,
			policyID: "allow_reads", msg: "Tool call denied: Parameter validation failed", fields: []string{"url"},
		},
		{
			// Proto3 leaves an empty topic out of the wire; the front door
			// renders it, so allowed_values still applies.
			name: "constraint violated by a zero value",
			call: func(ctx context.Context, c toolClient) error {
				_, err := c.Watch(ctx, "", 3)
				return err
			},
			code: codes.InvalidArgument, reason: tollgate.ReasonConstraintViolated, stage: tollgate.StageConstraints,
			policyID: "allow_reads", msg: "Constraint violation: Parameter 'topic'", fields: []string{"topic"},
		},
		{
			name: "approval denied",
			call: func(ctx context.Context, c toolClient) error {
				return echoHi(ContextWithIntent(ctx, intent("needs_approval", "no")), c)
			},
			code: codes.PermissionDenied, reason: tollgate.ReasonApprovalDenied, stage: tollgate.StageApproval,
			policyID: "ask_when_asked", msg: "Approval failed: denied",
		},
		{
			name: "approval pending",
			call: func(ctx context.Context, c toolClient) error {
				return echoHi(ContextWithIntent(ctx, intent("needs_approval", "defer")), c)
			},
			code: codes.FailedPrecondition, reason: tollgate.ReasonApprovalPending, stage: tollgate.StageApproval,
			policyID: "ask_when_asked", msg: "Tool call deferred. Approval ID: apr-1", approval: "apr-1",
		},
		{
			name: "tool failed (panic)",
			call: func(ctx context.Context, c toolClient) error { _, err := c.Echo(ctx, "panic"); return err },
			code: codes.Internal, reason: tollgate.ReasonToolFailed, stage: tollgate.StageExecute,
			policyID: "allow_reads", msg: "Tool call failed.",
		},
	}
	for _, v := range variants {
		for _, tc := range cases {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				tw, _ := newTower(t, tc.tower...)
				agent := tc.agent
				if agent.ID == "" {
					agent = testAgent
				}
				var copts []ClientOption
				if !tc.raw {
					copts = append(copts, WithAgent(agent))
				}
				c := v.dial(t, tw, tc.server, copts)
				ctx := t.Context()
				if tc.before != nil {
					tc.before(t, ctx, c)
				}
				e := inspect(t, tc.call(ctx, c))
				if e.code != tc.code {
					t.Fatalf("code = %v (%q), want %v", e.code, e.msg, tc.code)
				}
				if !strings.HasPrefix(e.msg, tc.msg) {
					t.Errorf("message = %q, want prefix %q", e.msg, tc.msg)
				}
				if strings.Contains(e.msg, "boom") || strings.Contains(e.msg, "goroutine") {
					t.Errorf("message leaks internals: %q", e.msg)
				}
				if e.info == nil {
					t.Fatal("no ErrorInfo")
				}
				if e.info.GetReason() != string(tc.reason) || e.info.GetDomain() != ErrorDomain {
					t.Errorf("ErrorInfo reason/domain = %q/%q, want %q/%q", e.info.GetReason(), e.info.GetDomain(), tc.reason, ErrorDomain)
				}
				md := e.info.GetMetadata()
				if md["stage"] != string(tc.stage) || md["policyId"] != tc.policyID || md["approvalId"] != tc.approval {
					t.Errorf("ErrorInfo metadata = %v, want stage %q policyId %q approvalId %q", md, tc.stage, tc.policyID, tc.approval)
				}
				if md["tool"] == "" {
					t.Errorf("ErrorInfo metadata has no tool: %v", md)
				}
				if md["correlationId"] == "" && tc.name != "identity invalid: malformed agent header, no verifier" {
					t.Errorf("ErrorInfo metadata has no correlationId: %v", md)
				}
				if tc.retry != (e.retry != nil) || (tc.retry && e.retry.GetRetryDelay().AsDuration() <= 0) {
					t.Errorf("RetryInfo = %v, want present: %v", e.retry, tc.retry)
				}
				if !slices.Equal(e.badFields(), tc.fields) {
					t.Errorf("BadRequest fields = %q, want %q", e.badFields(), tc.fields)
				}
			})
		}
	}
}

// TestInternalRefusal: when the audit record cannot be written the call is
// refused as Internal with a generic message, and the tool never runs.
func TestInternalRefusal(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tw, rec := newTower(t)
			rec.fail.Store(true)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent)})
			_, err := c.Echo(t.Context(), "hi")
			e := inspect(t, err)
			if e.code != codes.Internal || e.msg != "Internal error." || e.info.GetReason() != string(tollgate.ReasonInternal) {
				t.Fatalf("got %v %q %v, want Internal \"Internal error.\" INTERNAL", e.code, e.msg, e.info)
			}
			if e.info.GetMetadata()["stage"] != string(tollgate.StageAudit) {
				t.Errorf("stage = %q, want audit", e.info.GetMetadata()["stage"])
			}
		})
	}
}

// TestAllowedCalls: allowed calls of every shape reach the handler with the
// verified agent in its context, and each is audited.
func TestAllowedCalls(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tw, rec := newTower(t)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent)})
			ctx := t.Context()

			if got, err := c.Echo(ctx, "hi"); err != nil || got != "test-agent:hi" {
				t.Fatalf("Echo = %q, %v; want test-agent:hi", got, err)
			}
			if got, err := c.Fetch(ctx, "https://api.example/x"); err != nil || got != "https://api.example/x" {
				t.Fatalf("Fetch = %q, %v", got, err)
			}
			got, err := c.Watch(ctx, "tickets", 3)
			if want := []string{"test-agent/tickets", "test-agent/tickets", "test-agent/tickets"}; err != nil || !slices.Equal(got, want) {
				t.Fatalf("Watch = %q, %v; want %q", got, err, want)
			}
			if n, err := c.Upload(ctx, "a", "b", "c"); err != nil || n != 3 {
				t.Fatalf("Upload = %d, %v; want 3", n, err)
			}
			replies, err := c.Chat(ctx, "one", "two")
			if want := []string{"re one by test-agent", "re two by test-agent"}; err != nil || !slices.Equal(replies, want) {
				t.Fatalf("Chat = %q, %v; want %q", replies, err, want)
			}
			// Echo, Fetch, Watch: one call each; Upload: 3 messages; Chat: 2.
			want := slices.Repeat([]tollgate.Outcome{tollgate.OutcomeExecuted}, 8)
			if got := rec.outcomes(); !slices.Equal(got, want) {
				t.Errorf("audited outcomes = %v, want %v", got, want)
			}
		})
	}
}

// TestStreamPerMessage: client-streaming and bidi messages are each gated;
// a refused message ends the stream with its status and is never handled.
func TestStreamPerMessage(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name+"/upload", func(t *testing.T) {
			tw, rec := newTower(t)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent)})
			n, err := c.Upload(t.Context(), "ok", "this-name-is-far-too-long", "never-checked")
			e := inspect(t, err)
			if e.code != codes.InvalidArgument || e.info.GetReason() != string(tollgate.ReasonParamsInvalid) {
				t.Fatalf("Upload = %d, %v %q %v; want InvalidArgument PARAMS_INVALID", n, e.code, e.msg, e.info)
			}
			if got, want := rec.outcomes(), []tollgate.Outcome{tollgate.OutcomeExecuted, tollgate.OutcomeBlocked}; !slices.Equal(got, want) {
				t.Errorf("audited outcomes = %v, want %v", got, want)
			}
		})
		t.Run(v.name+"/chat", func(t *testing.T) {
			tw, rec := newTower(t)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent)})
			replies, err := c.Chat(t.Context(), "hello", "shout!", "after")
			if want := []string{"re hello by test-agent"}; !slices.Equal(replies, want) {
				t.Errorf("replies = %q, want %q", replies, want)
			}
			e := inspect(t, err)
			if e.code != codes.InvalidArgument || e.info.GetReason() != string(tollgate.ReasonConstraintViolated) {
				t.Fatalf("Chat error = %v %q %v; want InvalidArgument CONSTRAINT_VIOLATED", e.code, e.msg, e.info)
			}
			if !slices.Equal(e.badFields(), []string{"text"}) {
				t.Errorf("BadRequest fields = %q, want [text]", e.badFields())
			}
			if got, want := rec.outcomes(), []tollgate.Outcome{tollgate.OutcomeExecuted, tollgate.OutcomeBlocked}; !slices.Equal(got, want) {
				t.Errorf("audited outcomes = %v, want %v", got, want)
			}
		})
		t.Run(v.name+"/empty stream is gated", func(t *testing.T) {
			tw, rec := newTower(t)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(blockedAgent)})
			_, err := c.Upload(t.Context())
			if e := inspect(t, err); e.code != codes.PermissionDenied || e.info.GetMetadata()["policyId"] != "deny_blocked_agent" {
				t.Fatalf("empty Upload by a blocked agent = %v %q %v; want PermissionDenied", e.code, e.msg, e.info)
			}
			if got := rec.outcomes(); !slices.Equal(got, []tollgate.Outcome{tollgate.OutcomeBlocked}) {
				t.Errorf("audited outcomes = %v, want [blocked]", got)
			}
		})
	}
}

// TestPassThrough: only explicitly matched methods skip the gate, unaudited.
func TestPassThrough(t *testing.T) {
	echoPasses := []Option{WithPassThrough(MatchMethods("/tollgate.test.v1.ToolService/Echo"))}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tw, rec := newTower(t)
			c := v.dial(t, tw, echoPasses, []ClientOption{WithAgent(blockedAgent)})
			got, err := c.Echo(t.Context(), "hi")
			if err != nil || got != "<none>:hi" {
				t.Fatalf("passed-through Echo = %q, %v; want <none>:hi (no verified agent)", got, err)
			}
			if _, err := c.Fetch(t.Context(), "https://api.example/"); inspect(t, err).code != codes.PermissionDenied {
				t.Errorf("Fetch by a blocked agent = %v, want PermissionDenied", err)
			}
			if n := len(rec.outcomes()); n != 1 {
				t.Errorf("audited %d calls, want 1 (Fetch only)", n)
			}
		})
	}
	t.Run("grpc health", func(t *testing.T) {
		tw, rec := newTower(t)
		gated := healthpb.NewHealthClient(grpcConn(t, startGRPC(t, tw)))
		_, err := gated.Check(t.Context(), &healthpb.HealthCheckRequest{})
		if e := inspect(t, err); e.code != codes.PermissionDenied || e.info.GetReason() != string(tollgate.ReasonPolicyDenied) {
			t.Errorf("health without pass-through = %v, want PermissionDenied (not in the manifest)", err)
		}
		open := healthpb.NewHealthClient(grpcConn(t, startGRPC(t, tw, WithPassThrough(MatchHealthAndReflection()))))
		if r, err := open.Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health with pass-through = %v, %v; want SERVING", r, err)
		}
		if n := len(rec.outcomes()); n != 1 {
			t.Errorf("audited %d calls, want 1 (the gated check)", n)
		}
	})
}

// TestConcurrent runs 100 goroutines of unary and bidi calls against both
// stacks at once (run with -race).
func TestConcurrent(t *testing.T) {
	tw, rec := newTower(t)
	copts := []ClientOption{WithAgent(testAgent)}
	clients := []toolClient{variants[0].dial(t, tw, nil, copts), variants[1].dial(t, tw, nil, copts)}
	const workers = 100
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			c := clients[i%len(clients)]
			msg := fmt.Sprint("m", i)
			if got, err := c.Echo(t.Context(), msg); err != nil || got != "test-agent:"+msg {
				errs <- fmt.Errorf("worker %d: Echo = %q, %v", i, got, err)
				return
			}
			if got, err := c.Chat(t.Context(), msg); err != nil || len(got) != 1 {
				errs <- fmt.Errorf("worker %d: Chat = %q, %v", i, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(rec.outcomes()); got != 2*workers {
		t.Errorf("audited %d calls, want %d", got, 2*workers)
	}
}

// TestCanceledBeforeDecision: a caller that gives up while the approver
// waits gets DeadlineExceeded from its own stack, and the tower audits the
// call as blocked.
func TestCanceledBeforeDecision(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tw, rec := newTower(t)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent)})
			ctx, cancel := context.WithTimeout(ContextWithIntent(t.Context(), intent("needs_approval", "wait")), 50*time.Millisecond)
			defer cancel()
			_, err := c.Echo(ctx, "hi")
			if code := inspect(t, err).code; code != codes.DeadlineExceeded {
				t.Fatalf("code = %v, want DeadlineExceeded", code)
			}
			rec.wait(t, 1) // the server notices the deadline on its own schedule
			if got := rec.outcomes(); !slices.Equal(got, []tollgate.Outcome{tollgate.OutcomeBlocked}) {
				t.Errorf("audited outcomes = %v, want [blocked]", got)
			}
		})
	}
}

// TestDeferredApproval: a deferred call is refused with its approval id;
// once a human approves, the same call retried with that id
// (HeaderApprovalID) runs, exactly once.
func TestDeferredApproval(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			store := approvals.NewMemoryStore()
			tw, _ := newTower(t, withApprovalStore(store))
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent), WithIntent(intent("needs_later_approval", "cleanup"))})

			_, err := c.Echo(t.Context(), "hi")
			e := inspect(t, err)
			id := e.info.GetMetadata()["approvalId"]
			if e.code != codes.FailedPrecondition || id == "" {
				t.Fatalf("first call = %v %q %v; want FailedPrecondition with an approval id", e.code, e.msg, e.info)
			}
			if err := store.Decide(t.Context(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "reviewer", At: testNow}); err != nil {
				t.Fatal(err)
			}
			ctx := ContextWithApprovalID(t.Context(), id)
			if got, err := c.Echo(ctx, "hi"); err != nil || got != "test-agent:hi" {
				t.Fatalf("approved retry = %q, %v", got, err)
			}
			_, err = c.Echo(ctx, "hi")
			if e := inspect(t, err); e.code != codes.PermissionDenied || e.info.GetReason() != string(tollgate.ReasonApprovalDenied) {
				t.Fatalf("second retry = %v %q; want PermissionDenied APPROVAL_DENIED (used)", e.code, e.msg)
			}
		})
	}
}

// TestVerifiedIdentity: with a verifier, a correctly signed legacy agent
// header gets through and the handler sees the verified agent.
func TestVerifiedIdentity(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tw, _ := newTower(t, withVerifier())
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(identity.SignLegacy(testAgent, verifierSecret))})
			if got, err := c.Echo(t.Context(), "hi"); err != nil || got != "test-agent:hi" {
				t.Fatalf("Echo = %q, %v; want test-agent:hi", got, err)
			}
			replies, err := c.Chat(t.Context(), "one")
			if err != nil || len(replies) != 1 || replies[0] != "re one by test-agent" {
				t.Fatalf("Chat = %q, %v", replies, err)
			}
		})
	}
}
