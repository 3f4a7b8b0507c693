package replay

import (
	"io"
	"slices"
	"strings"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/netguard"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

// Status is what replay concluded about one call.
type Status string

// The four statuses.
const (
	// Unchanged: the candidate decides as the log records.
	Unchanged Status = "unchanged"
	// Changed: the candidate decides ALLOW, ASK or DENY where the log
	// records another of the three.
	Changed Status = "changed"
	// Undetermined: the candidate's decision depends on a value the log
	// holds redacted or cut, so replay does not guess it.
	Undetermined Status = "undetermined"
	// Skipped: a stage replay does not run (identity, circuit breaker,
	// rate limit, front door, an internal error, a cancellation) refused
	// the call, so the log holds no decision to compare.
	Skipped Status = "skipped"
)

// Verdict is one decision about a call: recorded in the log or made by the
// candidate.
type Verdict struct {
	Decision tollgate.DecisionType
	Rule     string         // the policy rule id; "" when none (no match, or a stage after the policy refused)
	Stage    tollgate.Stage // the stage that decided: policy, netguard, schema, constraints, approval (recorded ASK)
	Reason   string
}

// Call is one replayed call. Run passes the same *Call to every fn call,
// so copy what you keep.
type Call struct {
	Line          int    // the line of the call's first record
	Seq           uint64 // that record's seq; 0 in Tollgate's own logs
	CorrelationID string
	Agent         string
	Tool          string
	Old           Verdict // as recorded
	New           Verdict // the candidate's; zero unless Status is Unchanged or Changed
	Status        Status
	// Why says, for an undetermined call, which redacted field the
	// candidate reads and where; for a skipped call, the stage.
	Why string
}

// Replayer re-decides recorded calls with a candidate configuration. It is
// immutable and safe for concurrent use.
type Replayer struct {
	policy   *policy.Policy
	rules    []policy.RuleInfo
	manifest *registry.Manifest
	guard    *netguard.Guard
	// The metadata objects the candidate's rules read; the others are
	// never decoded.
	agentMeta, intentMeta, toolMeta bool
}

// Option configures a Replayer.
type Option func(*Replayer)

// WithManifest resolves each call's tool in m, as the gateway does: effect,
// resource type and manifest version come from m (a tool m does not know
// is effect unknown, so denied), and the tool's parameter schema and
// constraints are checked. Without it, effect and resource type are taken
// as recorded, and calls the log records as refused by the schema or
// constraints stage are skipped.
func WithManifest(m *registry.Manifest) Option { return func(r *Replayer) { r.manifest = m } }

// WithGuard checks every call the candidate policy does not deny against
// the network guard, as the gateway does (tower.LoadFiles builds it from
// the policy's network_policy: block). Without it, no call is refused by
// the network guard — so a call the log records as refused there changes.
func WithGuard(g *netguard.Guard) Option { return func(r *Replayer) { r.guard = g } }

// New returns a Replayer deciding with the candidate policy p.
func New(p *policy.Policy, opts ...Option) *Replayer {
	r := &Replayer{policy: p}
	for _, info := range p.Rules() {
		r.rules = append(r.rules, info)
		for _, f := range info.Reads {
			r.needs(f)
		}
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run reads an audit log from src — this implementation's or Tollgate
// 1.4's — and re-decides each call once: a call's "authorized" record and
// its outcome record (same correlation id) are one call; checkpoint lines
// are skipped. It calls fn for every call, in log order, and returns the
// counts. The log is streamed; what Run keeps is the correlation ids of
// calls whose outcome record it has not read yet. It stops at the first
// malformed line ("audit: line N: ...") or error from fn. Lines are
// decoded and decided on every core (GOMAXPROCS); fn is called from one
// goroutine at a time, in log order.
func (r *Replayer) Run(src io.Reader, fn func(*Call) error) (*Summary, error) {
	s := newSummary()
	open := map[string]struct{}{} // calls whose "authorized" record was read
	err := r.batches(src, func(b *batch) error {
		for i := range b.items {
			it := &b.items[i]
			if it.decodeErr != nil {
				return it.decodeErr
			}
			s.Lines++
			if it.rec.Kind != "" || r.seen(open, &it.rec) {
				continue
			}
			if it.replayErr != nil {
				return it.replayErr
			}
			s.add(&it.call)
			if err := fn(&it.call); err != nil {
				return err
			}
		}
		return b.err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// seen reports whether rec belongs to a call already replayed: the
// outcome record that follows an "authorized" one.
func (r *Replayer) seen(open map[string]struct{}, rec *record) bool {
	id := rec.CorrelationID
	if id == "" {
		return false
	}
	authorized := rec.Outcome == string(tollgate.OutcomeAuthorized)
	if _, ok := open[id]; ok {
		if !authorized {
			delete(open, id)
		}
		return true
	}
	if authorized {
		open[id] = struct{}{}
	}
	return false
}

// needs notes which metadata object the policy field f is read from.
func (r *Replayer) needs(f string) {
	section, key, _ := strings.Cut(f, ".")
	switch {
	case section == "agent" && !slices.Contains([]string{"agent_id", "version", "owner", "delegated_by"}, key):
		r.agentMeta = true
	case section == "intent" && key != "action" && key != "reason":
		r.intentMeta = true
	case section == "when":
		r.toolMeta = true
	}
}
