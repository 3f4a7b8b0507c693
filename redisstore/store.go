package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate/audit"
)

// DefaultPrefix starts every key and channel name a Store uses.
const DefaultPrefix = "tollgate:"

// Defaults of the approval options.
const (
	// DefaultApprovalGrace is how long an approval record outlives its
	// expiry, so that admins and auditors can still look it up.
	DefaultApprovalGrace = 24 * time.Hour
	// DefaultWaitRecheck is how often a blocked Wait re-reads the record in
	// case a pub/sub message was lost (Redis delivers them at most once).
	DefaultWaitRecheck = 5 * time.Second
)

// Store holds grants, approval requests and the token replay cache in one
// Redis deployment. Several processes sharing the deployment (replicas of a
// service) see one state: every read-modify-write runs in a Lua script, so
// it is atomic across all of them. A Store is safe for concurrent use.
type Store struct {
	client      redis.UniversalClient
	keys        keySpace
	now         func() time.Time
	grace       time.Duration
	waitRecheck time.Duration
	redactor    *audit.Redactor
	// waitHook, when set, runs in Wait after each read that found the
	// request pending: tests decide there, in the gap where Tollgate's Wait
	// lost decisions.
	waitHook func()
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix starts every key and channel name with prefix (default
// DefaultPrefix), so that several deployments can share one Redis database.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.keys = newKeySpace(prefix) }
}

// WithClock sets the clock that stamps CreatedAt on new grants (when the
// caller left it zero) and on new approval requests. Decisions and
// consumption take their time from the caller.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithApprovalGrace sets how long an approval record is kept after it
// expires (default DefaultApprovalGrace). Redis then deletes it. A negative
// value is ignored.
func WithApprovalGrace(d time.Duration) Option {
	return func(s *Store) {
		if d >= 0 {
			s.grace = d
		}
	}
}

// WithWaitRecheck sets how often ApprovalStore.Wait re-reads a pending
// record while it waits for a pub/sub wake-up (default
// DefaultWaitRecheck). Pub/sub messages sent while a connection is being
// re-established are lost; the re-read bounds how late such a decision is
// noticed. A non-positive value is ignored.
func WithWaitRecheck(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.waitRecheck = d
		}
	}
}

// WithRedactor sets what the approval store removes from params and
// metadata before writing a request to Redis (default
// audit.DefaultRedactor, the audit log's rule), so secrets in tool
// arguments do not sit in Redis (Tollgate stored them, §18 #39). The
// binding hash is computed before redaction, so redaction never weakens
// which call an approval is bound to; it only changes what Get and List
// show. audit.NewRedactor() stores everything; nil keeps the default.
func WithRedactor(r *audit.Redactor) Option {
	return func(s *Store) {
		if r != nil {
			s.redactor = r
		}
	}
}

// New returns a Store using client, which may be a single server, a
// Sentinel-managed failover client or a Cluster client; Redis 7.0 or newer
// is required. The Store does not own client: close it yourself.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{
		client:      client,
		keys:        newKeySpace(DefaultPrefix),
		now:         time.Now,
		grace:       DefaultApprovalGrace,
		waitRecheck: DefaultWaitRecheck,
		redactor:    audit.DefaultRedactor,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Grants returns the grants.Store kept in this Store.
func (s *Store) Grants() *GrantStore { return &GrantStore{s} }

// Approvals returns the approvals.Store kept in this Store.
func (s *Store) Approvals() *ApprovalStore { return &ApprovalStore{s} }

// ReplayCache returns the identity.ReplayCache kept in this Store.
func (s *Store) ReplayCache() *ReplayCache { return &ReplayCache{s} }
