package integrity

import (
	"container/list"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Snapshot is what the monitor keeps of one turn's context: checksums
// only, never the values (a context may hold secrets).
type Snapshot struct {
	AgentID, TurnID string
	// Checksum is the SHA-256 hex of json.dumps(context, sort_keys=True),
	// byte-identical to Tollgate 1.4.0's.
	Checksum string
	// FieldChecksums maps each top-level field to its value's checksum.
	FieldChecksums map[string]string
	// FieldNames lists the fields in the context's order.
	FieldNames []string
	// Timestamp is when the snapshot was taken (the monitor's clock).
	Timestamp time.Time
}

// Monitor keeps snapshots of agents' contexts per turn and verifies later
// contexts against them. It is safe for concurrent use; its memory is
// bounded by WithMaxSnapshots × WithMaxFields checksums.
type Monitor struct {
	cfg       config
	immutable map[string]struct{}

	mu     sync.Mutex
	agents map[string]*agentTurns
	// all holds every entry, most recently taken first, so the globally
	// oldest (and, with a TTL, the first to expire) is at the back.
	all *list.List
}

// agentTurns is one agent's snapshots, most recently taken first.
type agentTurns struct {
	turns map[string]*entry
	order *list.List
}

type entry struct {
	snap     *Snapshot // never changed once stored
	inAll    *list.Element
	inAgent  *list.Element
	turnList *agentTurns
}

// New returns a Monitor, or an error when an option is out of range.
func New(opts ...Option) (*Monitor, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	m := &Monitor{
		cfg:       cfg,
		immutable: make(map[string]struct{}, len(cfg.immutable)),
		agents:    make(map[string]*agentTurns),
		all:       list.New(),
	}
	for _, f := range cfg.immutable {
		m.immutable[f] = struct{}{}
	}
	return m, nil
}

// Snapshot records the context of agentID's turn turnID, replacing an
// earlier snapshot of the same turn. Re-snapshotting a turn makes it the
// agent's newest: unlike Tollgate, it never leaves a stale duplicate whose
// eviction would delete the live snapshot.
func (m *Monitor) Snapshot(agentID, turnID string, c tollgate.Params) error {
	if err := checkIDs(agentID, turnID); err != nil {
		return err
	}
	d, err := digestOf(c, m.cfg.maxFields)
	if err != nil {
		return err
	}
	now := m.cfg.now()
	snap := &Snapshot{
		AgentID: agentID, TurnID: turnID,
		Checksum: d.sum, FieldChecksums: d.fields, FieldNames: d.names,
		Timestamp: now,
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.agents[agentID]; a != nil && a.turns[turnID] != nil {
		// Removed first: the agent's record goes with its last snapshot.
		m.remove(a.turns[turnID])
	}
	a := m.agents[agentID]
	if a == nil {
		a = &agentTurns{turns: make(map[string]*entry), order: list.New()}
		m.agents[agentID] = a
	}
	e := &entry{snap: snap, turnList: a}
	e.inAll = m.all.PushFront(e)
	e.inAgent = a.order.PushFront(e)
	a.turns[turnID] = e
	for a.order.Len() > m.cfg.maxTurns {
		m.remove(a.order.Back().Value.(*entry))
	}
	for m.all.Len() > m.cfg.maxSnapshots {
		m.remove(m.all.Back().Value.(*entry))
	}
	m.sweep(now)
	return nil
}

// Verify compares ctx with the snapshot of agentID's turn turnID.
// Invalid when an immutable field was changed, removed or added, when the
// context cannot be checked, or (WithRequireSnapshot) when there is no
// snapshot. Every invalid result is logged and passed to WithOnViolation.
func (m *Monitor) Verify(agentID, turnID string, c tollgate.Params) Result {
	r := m.verify(agentID, turnID, c)
	if !r.Valid {
		m.report(r)
	}
	return r
}

func (m *Monitor) verify(agentID, turnID string, c tollgate.Params) Result {
	r := Result{AgentID: agentID, TurnID: turnID}
	if err := checkIDs(agentID, turnID); err != nil {
		r.Err, r.Message = err, err.Error()
		return r
	}
	d, err := digestOf(c, m.cfg.maxFields)
	if err != nil {
		r.Err, r.Message = err, err.Error()
		return r
	}
	snap := m.lookup(agentID, turnID)
	switch {
	case snap == nil && m.cfg.require:
		r.NoSnapshot, r.Message = true, msgRequired
		return r
	case snap == nil:
		r.Valid, r.NoSnapshot, r.Message = true, true, msgNoSnapshot
		return r
	case snap.Checksum == d.sum:
		r.Valid, r.Message = true, msgVerified
		return r
	}
	for _, f := range snap.FieldNames {
		sum, ok := d.fields[f]
		switch {
		case !ok:
			r.Removed = append(r.Removed, f)
		case sum != snap.FieldChecksums[f]:
			r.Changed = append(r.Changed, f)
		}
	}
	for _, f := range d.names {
		if _, ok := snap.FieldChecksums[f]; !ok {
			r.Added = append(r.Added, f)
		}
	}
	// Added counts too, unlike Tollgate: an immutable field that appears
	// mid-conversation (a system_prompt injected where there was none) is
	// as much a tampering as one that changes.
	for _, l := range [][]string{r.Changed, r.Removed, r.Added} {
		for _, f := range l {
			if _, ok := m.immutable[f]; ok {
				r.Violations = append(r.Violations, f)
			}
		}
	}
	r.Valid = len(r.Violations) == 0
	r.Message = r.message()
	return r
}

// report logs an invalid result and hands it to the violation hook.
func (m *Monitor) report(r Result) {
	m.cfg.log.Warn(fmt.Sprintf("Context integrity violation for agent=%s turn=%s: %s", r.AgentID, r.TurnID, r.Message),
		"agent_id", r.AgentID, "turn_id", r.TurnID)
	if m.cfg.onViolation == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			m.cfg.log.Error("integrity: violation hook panicked", "agent_id", r.AgentID, "turn_id", r.TurnID, "panic", p)
		}
	}()
	m.cfg.onViolation(r)
}

// Get returns a copy of the snapshot of agentID's turn turnID, if one is
// kept and not expired.
func (m *Monitor) Get(agentID, turnID string) (Snapshot, bool) {
	snap := m.lookup(agentID, turnID)
	if snap == nil {
		return Snapshot{}, false
	}
	s := *snap
	s.FieldChecksums = maps.Clone(snap.FieldChecksums)
	s.FieldNames = slices.Clone(snap.FieldNames)
	return s, true
}

// Clear forgets every snapshot of agentID.
func (m *Monitor) Clear(agentID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.agents[agentID]; a != nil {
		for a.order.Len() > 0 {
			m.remove(a.order.Back().Value.(*entry))
		}
	}
}

// ClearAll forgets every snapshot.
func (m *Monitor) ClearAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agents = make(map[string]*agentTurns)
	m.all.Init()
}

// Len returns the number of snapshots kept (expired ones included until
// they are swept).
func (m *Monitor) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.all.Len()
}

// lookup returns the live snapshot of a turn, dropping it if expired.
func (m *Monitor) lookup(agentID, turnID string) *Snapshot {
	now := m.cfg.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.agents[agentID]
	if a == nil {
		return nil
	}
	e := a.turns[turnID]
	if e == nil {
		return nil
	}
	if m.expired(e, now) {
		m.remove(e)
		return nil
	}
	return e.snap
}

func (m *Monitor) expired(e *entry, now time.Time) bool {
	return m.cfg.ttl > 0 && now.Sub(e.snap.Timestamp) >= m.cfg.ttl
}

// sweep drops expired snapshots from the back of the global list, where
// the oldest are; it stops at the first live one, so its cost is paid by
// the snapshots it frees.
func (m *Monitor) sweep(now time.Time) {
	for m.all.Len() > 0 {
		e := m.all.Back().Value.(*entry)
		if !m.expired(e, now) {
			return
		}
		m.remove(e)
	}
}

// remove unlinks e everywhere; m.mu is held.
func (m *Monitor) remove(e *entry) {
	m.all.Remove(e.inAll)
	a := e.turnList
	a.order.Remove(e.inAgent)
	delete(a.turns, e.snap.TurnID)
	if a.order.Len() == 0 {
		delete(m.agents, e.snap.AgentID)
	}
}

var errEmptyID = errors.New("integrity: empty agent id or turn id")

func checkIDs(agentID, turnID string) error {
	if agentID == "" || turnID == "" {
		return errEmptyID
	}
	return nil
}
