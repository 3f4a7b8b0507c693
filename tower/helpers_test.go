package tower

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

// recorder is an audit sink that keeps events in memory.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	fail   func(e *audit.Event) error
}

func (r *recorder) Emit(_ context.Context, e *audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(e); err != nil {
			return err
		}
	}
	r.events = append(r.events, *e)
	return nil
}

func (r *recorder) outcomes() []tollgate.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]tollgate.Outcome, len(r.events))
	for i, e := range r.events {
		out[i] = e.Outcome
	}
	return out
}

func (r *recorder) last(t *testing.T) audit.Event {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("no audit event")
	}
	return r.events[len(r.events)-1]
}

// fixed is a policy that always decides d (Tollgate's tests use such mocks).
func fixed(d tollgate.DecisionType) policy.Evaluator {
	return policy.EvaluatorFunc(func(tollgate.Agent, tollgate.Intent, tollgate.ToolRequest) tollgate.Decision {
		return tollgate.Decision{Type: d, Reason: "mock " + string(d), PolicyID: "mock", PolicyVersion: "1"}
	})
}

const testManifest = `version: "1.0.0"
tools:
  "mock:run":
    effect: read
    resource_type: thing
  "mock:write":
    effect: write
    resource_type: thing
  "api:delete":
    effect: delete
    resource_type: thing
  "api:fetch":
    effect: read
    resource_type: url
    constraints:
      allowed_url_patterns: ["https://safe.example.com/*"]
  "api:write_file":
    effect: write
    resource_type: file
    params_schema:
      type: object
      required: [path]
      properties:
        path: {type: string, pattern: "^/safe/"}
`

func manifest(t testing.TB) *registry.Manifest {
	t.Helper()
	m, err := registry.Parse("manifest.yaml", []byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTower(t testing.TB, cfg *Config, opts ...Option) (*Tower, *recorder) {
	t.Helper()
	rec := &recorder{}
	if cfg.Manifest == nil {
		cfg.Manifest = manifest(t)
	}
	opts = append([]Option{
		WithAuditSink(rec),
		WithClock(func() time.Time { return time.Unix(1_800_000_000, 0) }),
		WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)
	tw, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tw, rec
}

var (
	agent  = tollgate.Agent{ID: "agent-1", Version: "1.0", Owner: "team"}
	intent = tollgate.Intent{Action: "demo", Reason: "testing"}
)

func req(tool string, params ...tollgate.Field) tollgate.ToolRequest {
	return tollgate.ToolRequest{Tool: tool, Action: "run", Params: tollgate.Params(params)}
}

func ok(context.Context) (any, error) { return "ok", nil }

// wantRefusal asserts err is a *tollgate.Error with the given reason.
func wantRefusal(t *testing.T, err error, reason tollgate.Reason) *tollgate.Error {
	t.Helper()
	te, isTE := err.(*tollgate.Error)
	if !isTE {
		t.Fatalf("err = %T %v, want *tollgate.Error %s", err, err, reason)
	}
	if te.Reason != reason {
		t.Fatalf("reason = %s (%s), want %s", te.Reason, te.Message, reason)
	}
	if te.CorrelationID == "" || te.Stage == "" {
		t.Errorf("refusal lacks correlation id or stage: %+v", te)
	}
	return te
}
