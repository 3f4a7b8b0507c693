package tower

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/netguard"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/ratelimit"
	"github.com/tollgate-go/tollgate/registry"
)

// Config is the part of a Tower that is loaded from files and may be swapped
// while the Tower serves calls. A nil field disables that stage, except
// Policy, which is required.
type Config struct {
	Policy   policy.Evaluator
	Manifest *registry.Manifest // nil: every tool is unknown, so denied
	Limiter  ratelimit.Limiter
	Guard    *netguard.Guard
}

// Tower runs the pipeline. Create it with New.
type Tower struct {
	cfg atomic.Pointer[Config]

	verifier    identity.Verifier
	breaker     breaker.Breaker
	grants      grants.Store
	approver    approvals.Approver
	pending     approvals.Store // deferred approvals; nil disables them
	kills       killswitch.Source
	observer    Observer
	tracer      trace.Tracer // nil: no spans
	sampleEvery uint32
	shadow      shadowState
	askMode     tollgate.AskMode
	askTTL      time.Duration
	sink        audit.Sink
	now         func() time.Time
	newID       func() string
	summary     func(any) string
	log         *slog.Logger

	auditFailures atomic.Uint64
}

// AuditFailures returns how many audit records this Tower failed to write:
// outcome and refusal records (a failed pre-execution record refuses the
// call and is counted too). Alert on any increase.
func (t *Tower) AuditFailures() uint64 { return t.auditFailures.Load() }

// Option configures a Tower.
type Option func(*Tower)

// WithVerifier sets the identity stage. Without one, the agent a caller
// passes is used as given; with one, only the agent the verifier returns is
// used, and a call whose credentials do not verify is refused.
func WithVerifier(v identity.Verifier) Option { return func(t *Tower) { t.verifier = v } }

// WithBreaker sets the per-tool circuit breaker.
func WithBreaker(b breaker.Breaker) Option { return func(t *Tower) { t.breaker = b } }

// WithGrants sets the grant store consulted for ASK decisions before the
// approver.
func WithGrants(s grants.Store) Option { return func(t *Tower) { t.grants = s } }

// WithApprover sets who decides ASK calls that no grant covers. The default,
// approvals.DenyAll, fails closed.
func WithApprover(a approvals.Approver) Option { return func(t *Tower) { t.approver = a } }

// WithApprovalStore enables deferred approvals: an ASK whose mode is
// deferred is stored in s and refused at once with APPROVAL_PENDING and the
// approval id; the caller retries the same call with that id
// (Call.ApprovalID), and it runs only if the approval was approved, has not
// expired, was given for exactly this call (agent and delegation chain,
// intent, tool, action, params) and has not been used. ttl bounds how long
// a request, and the approval given for it, stays valid (0: one hour).
func WithApprovalStore(s approvals.Store, ttl time.Duration) Option {
	return func(t *Tower) {
		t.pending = s
		if ttl > 0 {
			t.askTTL = ttl
		}
	}
}

// WithAskMode sets how ASK decisions wait when neither the policy rule nor
// the manifest tool says (ask_mode:). The default is tollgate.AskBlocking:
// the call waits for the approver. tollgate.AskDeferred needs
// WithApprovalStore.
func WithAskMode(m tollgate.AskMode) Option { return func(t *Tower) { t.askMode = m } }

// WithAuditSink sets where audit events go. The default discards them; a
// production Tower should always have one.
func WithAuditSink(s audit.Sink) Option { return func(t *Tower) { t.sink = s } }

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(t *Tower) { t.now = now } }

// WithIDGenerator sets how correlation ids are made (default: random UUIDv4).
func WithIDGenerator(f func() string) Option { return func(t *Tower) { t.newID = f } }

// WithResultSummary sets how a tool's result is summarised in the audit
// record (default: its text, cut at 200 characters, as Tollgate does; only
// about that much of a large result is rendered). Return "" to record no
// summary. f runs on every executed call.
func WithResultSummary(f func(result any) string) Option { return func(t *Tower) { t.summary = f } }

// WithLogger sets where internal errors (audit failures, recovered panics)
// are logged. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(t *Tower) { t.log = l } }

// ErrNoApprovalStore is returned by New when deferred approvals are the
// default but no store keeps them.
var ErrNoApprovalStore = errors.New("tower: deferred approvals need WithApprovalStore")

// ErrNoPolicy is returned by New and Swap when the Config has no policy.
var ErrNoPolicy = errors.New("tower: a policy is required")

// New returns a Tower running cfg.
func New(cfg *Config, opts ...Option) (*Tower, error) {
	t := &Tower{
		approver: approvals.DenyAll(),
		askMode:  tollgate.AskBlocking,
		askTTL:   time.Hour,
		sink:     audit.Discard,
		now:      time.Now,
		newID:    newCorrelationID,
		summary:  summarize,
		log:      slog.Default(),

		sampleEvery: DefaultStageSampling,
	}
	for _, o := range opts {
		o(t)
	}
	if _, ok := tollgate.ParseAskMode(string(t.askMode)); !ok {
		return nil, fmt.Errorf("tower: ask mode %q; want %q or %q", t.askMode, tollgate.AskBlocking, tollgate.AskDeferred)
	}
	if t.askMode == tollgate.AskDeferred && t.pending == nil {
		return nil, ErrNoApprovalStore
	}
	if s := t.shadow.cfg.Load(); s != nil && s.Policy == nil {
		return nil, ErrNoPolicy
	}
	if err := t.Swap(cfg); err != nil {
		return nil, err
	}
	return t, nil
}

// Swap replaces the loaded configuration atomically. Calls already past the
// point where they read the configuration finish with the old one.
func (t *Tower) Swap(cfg *Config) error {
	if cfg == nil || cfg.Policy == nil {
		return ErrNoPolicy
	}
	c := *cfg
	t.cfg.Store(&c)
	return nil
}

// Config returns the configuration in use.
func (t *Tower) Config() *Config { return t.cfg.Load() }

// Call is one tool call as a front door sees it.
type Call struct {
	// Credentials carry the claimed agent and, for token or mTLS verifiers,
	// the headers and TLS state.
	Credentials identity.Credentials
	Intent      tollgate.Intent
	// Request carries Tool, Action, Params and Metadata. Effect,
	// ResourceType and ManifestVersion are overwritten from the manifest.
	Request tollgate.ToolRequest
	// ApprovalID names an approval the caller was given earlier (deferred
	// approvals).
	ApprovalID string
	// CredentialsErr is set by a front door that could not read the
	// credentials it was sent (a malformed agent header). Without a
	// verifier the call is refused at the identity stage; with one, the
	// verifier decides from what remains (a valid token still proves who
	// is calling).
	CredentialsErr error
	// Stream is set by a front door on every call of one client-streaming
	// or bidi stream (each message is a call): the same *Stream for all of
	// them, binding them to the stream's verification and approval id.
	// Nil for a unary or server-streaming call.
	Stream *Stream
}

// ExecFunc runs the tool. It receives the context of the call, carrying the
// verified agent (identity.FromContext).
type ExecFunc func(ctx context.Context) (any, error)

// Execute gates one call by the agent given and, if it is allowed, runs exec.
// It returns exec's result and error unchanged, or a *tollgate.Error when
// the call was refused.
func (t *Tower) Execute(ctx context.Context, agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest, exec ExecFunc) (any, error) {
	return t.ExecuteCall(ctx, Call{Credentials: identity.Credentials{Claimed: agent}, Intent: intent, Request: req}, exec)
}
