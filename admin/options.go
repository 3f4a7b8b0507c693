package admin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
)

// DefaultWatchInterval is how often Watch polls the store for new and
// decided requests unless WithWatchInterval says otherwise.
const DefaultWatchInterval = time.Second

// Authorizer decides whether a verified caller may use the admin API. A
// non-nil error refuses the call with PermissionDenied; the error itself
// goes to the server log only.
type Authorizer func(ctx context.Context, caller tollgate.Agent) error

// config is what both services are configured with.
type config struct {
	verifier  identity.Verifier
	authorize Authorizer
	sink      audit.Sink
	now       func() time.Time
	newID     func() string
	redactor  *audit.Redactor
	log       *slog.Logger
	ticks     func() (<-chan time.Time, func())
	grants    grants.Store // ApprovalService only: grants issued on approval
}

// Option configures NewApprovalService and NewGrantService.
type Option func(*config)

// WithVerifier sets who may call: every call's credentials (headers such
// as "authorization: Bearer", TLS state) are verified by v, and a call
// that does not verify is refused with Unauthenticated. Required. Use a
// verifier whose agent metadata is signed, such as
// identity.NewJWTVerifier with an audience of its own, because the
// default Authorizer reads the role from it.
func WithVerifier(v identity.Verifier) Option { return func(c *config) { c.verifier = v } }

// WithAuthorizer sets which verified callers are admins (default:
// RequireRole(DefaultRole)).
func WithAuthorizer(a Authorizer) Option { return func(c *config) { c.authorize = a } }

// WithAuditSink sets where every decision, grant change and refused
// attempt to make one is recorded (default audit.Discard; a production
// server should always set one, usually the tool traffic's sink).
func WithAuditSink(s audit.Sink) Option { return func(c *config) { c.sink = s } }

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRedactor sets how secret-looking params and metadata are masked in
// responses and webhook bodies (default audit.DefaultRedactor).
func WithRedactor(r *audit.Redactor) Option { return func(c *config) { c.redactor = r } }

// WithLogger sets where refused credentials, authorizer errors and
// internal failures are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithWatchInterval sets how often Watch polls the store (default
// DefaultWatchInterval).
func WithWatchInterval(d time.Duration) Option {
	return func(c *config) {
		c.ticks = nil
		if d > 0 {
			c.ticks = func() (<-chan time.Time, func()) {
				t := time.NewTicker(d)
				return t.C, t.Stop
			}
		}
	}
}

// WithWatchTicks sets what wakes Watch to poll the store: newTicks is
// called once per stream and returns the tick channel and a function that
// stops it. Tests pass a channel they send on.
func WithWatchTicks(newTicks func() (ticks <-chan time.Time, stop func())) Option {
	return func(c *config) { c.ticks = newTicks }
}

// WithGrantStore lets ApprovalService.Approve issue a grant along with an
// approval (ApproveRequest.grant). Without it, such a request is refused
// with FailedPrecondition. NewGrantService ignores this option.
func WithGrantStore(s grants.Store) Option { return func(c *config) { c.grants = s } }

func newConfig(opts []Option) (config, error) {
	c := config{
		authorize: RequireRole(DefaultRole),
		sink:      audit.Discard,
		now:       time.Now,
		newID:     uuid.NewString,
		redactor:  audit.DefaultRedactor,
		log:       slog.Default(),
	}
	WithWatchInterval(DefaultWatchInterval)(&c)
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.verifier == nil:
		return config{}, errors.New("admin: WithVerifier is required: the admin API never trusts an unauthenticated caller")
	case c.authorize == nil:
		return config{}, errors.New("admin: WithAuthorizer(nil): pass an authorizer, or leave the option out for RequireRole(DefaultRole)")
	case c.sink == nil:
		return config{}, errors.New("admin: WithAuditSink(nil): pass a sink (audit.Discard records nothing)")
	case c.now == nil:
		return config{}, errors.New("admin: WithClock(nil): pass a clock")
	case c.log == nil:
		return config{}, errors.New("admin: WithLogger(nil): pass a logger")
	case c.ticks == nil:
		return config{}, errors.New("admin: WithWatchInterval must be positive, and WithWatchTicks not nil")
	}
	return c, nil
}
