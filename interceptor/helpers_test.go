package interceptor

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/tower"
)

// Fixed test time: the rate limiter's window and RetryInfo are exact.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// Agents of the test policy.
var (
	testAgent    = tollgate.Agent{ID: "test-agent", Version: "1.0.0", Owner: "test-team"}
	blockedAgent = tollgate.Agent{ID: "blocked-agent", Version: "1.0.0", Owner: "test-team"}
	limitedAgent = tollgate.Agent{ID: "limited-agent", Version: "1.0.0", Owner: "test-team"}
)

// verifierSecret signs agents for towers built withVerifier.
var verifierSecret = []byte("interceptor-test-secret")

// recorder is an audit sink kept in memory; fail makes every write fail,
// which the tower turns into an INTERNAL refusal.
type recorder struct {
	mu      sync.Mutex
	events  []audit.Event
	fail    atomic.Bool
	written chan struct{} // one token per event, for wait
}

func newRecorder() *recorder { return &recorder{written: make(chan struct{}, 1<<16)} }

func (r *recorder) Emit(_ context.Context, e *audit.Event) error {
	if r.fail.Load() {
		return errors.New("disk full")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, *e)
	select {
	case r.written <- struct{}{}:
	default: // nobody waits for this many
	}
	return nil
}

// outcomes returns the outcome of every call in the order they ended
// (the "authorized" records written before a tool runs are left out).
func (r *recorder) outcomes() []tollgate.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []tollgate.Outcome
	for _, e := range r.events {
		if e.Outcome != tollgate.OutcomeAuthorized {
			out = append(out, e.Outcome)
		}
	}
	return out
}

// last returns the last event written.
func (r *recorder) last(tb testing.TB) audit.Event {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		tb.Fatal("no audit event")
	}
	return r.events[len(r.events)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// wait blocks until n events were written since the start.
func (r *recorder) wait(tb testing.TB, n int) {
	tb.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-r.written:
		case <-timeout:
			tb.Fatalf("waited 10s for %d audit events", n)
		}
	}
}

// testApprover decides ASK calls by the intent's reason: "approve",
// "defer" (approval id apr-1), "wait" (until the caller gives up), anything
// else denies.
var testApprover = approvals.ApproverFunc(func(ctx context.Context, r approvals.Request) (approvals.Result, error) {
	switch r.Intent.Reason {
	case "approve":
		return approvals.Result{Outcome: approvals.OutcomeApproved}, nil
	case "defer":
		return approvals.Result{Outcome: approvals.OutcomeDeferred, ApprovalID: "apr-1"}, nil
	case "wait":
		<-ctx.Done()
		return approvals.Result{}, ctx.Err()
	}
	return approvals.Result{Outcome: approvals.OutcomeDenied}, nil
})

type towerConfig struct {
	verifier bool
	store    approvals.Store
}

type towerOption func(*towerConfig)

func withVerifier() towerOption { return func(c *towerConfig) { c.verifier = true } }

func withApprovalStore(s approvals.Store) towerOption { return func(c *towerConfig) { c.store = s } }

// newTower builds a tower from testdata with memory stages: a breaker that
// opens after one failure for an hour, the test approver, a fixed clock and
// an audit recorder.
func newTower(tb testing.TB, opts ...towerOption) (*tower.Tower, *recorder) {
	tb.Helper()
	var c towerConfig
	for _, o := range opts {
		o(&c)
	}
	cfg, err := tower.LoadFiles(tower.Files{Policy: "testdata/policy.yaml", Manifest: "testdata/manifest.yaml", Clock: fixedClock})
	if err != nil {
		tb.Fatal(err)
	}
	br, err := breaker.New(breaker.Settings{FailureThreshold: 1, Cooldown: time.Hour, Clock: fixedClock})
	if err != nil {
		tb.Fatal(err)
	}
	rec := newRecorder()
	topts := []tower.Option{
		tower.WithBreaker(br),
		tower.WithApprover(testApprover),
		tower.WithAuditSink(rec),
		tower.WithClock(fixedClock),
		tower.WithLogger(slog.New(slog.DiscardHandler)),
	}
	if c.verifier {
		topts = append(topts, tower.WithVerifier(identity.NewLegacyHMAC(verifierSecret)))
	}
	if c.store != nil {
		topts = append(topts, tower.WithApprovalStore(c.store, time.Hour))
	}
	tw, err := tower.New(cfg, topts...)
	if err != nil {
		tb.Fatal(err)
	}
	return tw, rec
}

// listen opens a loopback listener closed with the test.
func listen(tb testing.TB) net.Listener {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return lis
}

// serverProtocols serve HTTP/1.1 and HTTP/2 without TLS (h2c): gRPC and
// bidi streams need HTTP/2.
func serverProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// clientProtocols make a transport speak HTTP/2 to http:// URLs.
func clientProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

func agentID(ctx context.Context) string {
	if a, ok := identity.FromContext(ctx); ok {
		return a.ID
	}
	return "<none>"
}
