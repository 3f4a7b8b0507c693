package ratelimit

import (
	"strings"
	"sync"
)

// Sizing of the agent table. Forgetting is amortised O(1) and needs no
// background goroutine: each call first checks a few of its own shard's
// oldest agents, and every sweepEvery-th call of a shard checks a batch in
// another shard, so that shards no call reaches any more are emptied too.
const (
	shardCount  = 32 // a power of two
	expireBatch = 4  // agents checked in the caller's shard per call
	sweepEvery  = 8  // calls of a shard between two sweeps of another shard
	sweepBatch  = 32 // agents checked per sweep of another shard
	// shrinkMin is the smallest shard map rebuilt once mostly empty: a Go
	// map keeps its peak size, so without a rebuild a burst of agents would
	// hold its memory after they are forgotten.
	shrinkMin = 1024
	// spareMax is how many forgotten agents' logs a shard keeps for reuse,
	// so that a steady turnover of agents allocates almost nothing;
	// spareLog is the longest timestamp buffer kept with them.
	spareMax = 64
	spareLog = 16
)

// shard holds the logs of the agents whose ids hash to it. All logs of one
// agent live in one shard, so one lock makes check-then-record atomic across
// all rules.
type shard struct {
	mu     sync.Mutex
	agents map[string]*agentLogs
	// head and tail are a queue of every tracked agent, in the order they
	// were queued; see expire.
	head, tail *agentLogs
	peak       int // most agents held since agents was last rebuilt
	calls      uint32
	peer       int // the shard this one sweeps next
	// spare lists up to spareMax forgotten agents (linked by next) whose
	// logs add reuses.
	spare  *agentLogs
	spares int
}

// agentLogs are one agent's logs, indexed like the rules.
type agentLogs struct {
	id   string // the exact agent id, so ids cannot collide
	logs []ring
	// idleAt is when every counted call of this agent will have left its
	// window: from then on its counts are zero and it can be forgotten.
	idleAt int64
	// due is when the queue looks at the agent again: its idleAt when it
	// was queued (a later call moves idleAt, not the agent).
	due       int64
	next      *agentLogs
	forgotten bool // removed by Reset; dropped when it reaches the head
}

func newShards() []shard {
	s := make([]shard, shardCount)
	for i := range s {
		s[i].agents = make(map[string]*agentLogs)
		s[i].peer = (i + 1) % shardCount
	}
	return s
}

// add starts tracking an agent with logs for nRules rules. The id is
// copied: it may point into a larger buffer (a decoded token) that the
// table must not keep alive.
func (s *shard) add(id string, nRules int) *agentLogs {
	a := s.spare
	if a != nil {
		s.spare, a.next = a.next, nil
		s.spares--
	} else {
		a = &agentLogs{logs: make([]ring, nRules)}
	}
	a.id = strings.Clone(id)
	s.agents[a.id] = a
	s.peak = max(s.peak, len(s.agents))
	s.enqueue(a)
	return a
}

func (s *shard) enqueue(a *agentLogs) {
	if s.tail == nil {
		s.head = a
	} else {
		s.tail.next = a
	}
	s.tail = a
}

// expire looks at up to limit agents at the head of the queue whose due
// time has come: an idle agent is forgotten (its counts are all zero, so
// nothing changes), one that made calls since it was queued goes to the
// back with its new idle time.
//
// The queue is in queueing order, and an agent is due at most one longest
// window after it was queued, so an idle agent waits at most one longest
// window behind agents still active. Each agent is in the queue once, so
// the work is bounded by the calls that queued them: amortised O(1).
func (s *shard) expire(now int64, limit int) {
	for range limit {
		a := s.head
		if a == nil || a.due > now {
			break
		}
		s.head, a.next = a.next, nil
		if s.head == nil {
			s.tail = nil
		}
		switch {
		case a.forgotten:
			s.recycle(a)
		case a.idleAt <= now:
			delete(s.agents, a.id)
			s.recycle(a)
		default:
			a.due = a.idleAt
			s.enqueue(a)
		}
	}
	if s.peak >= shrinkMin && len(s.agents) <= s.peak/4 {
		s.rebuild()
	}
}

// recycle keeps a forgotten agent's logs for add, emptied, unless enough
// are kept already. Long timestamp buffers are dropped so that spares stay
// small.
func (s *shard) recycle(a *agentLogs) {
	if s.spares == spareMax {
		return
	}
	for i := range a.logs {
		l := &a.logs[i]
		if cap(l.ts) > spareLog {
			l.ts = nil
		}
		l.head, l.n = 0, 0
	}
	*a = agentLogs{logs: a.logs, next: s.spare}
	s.spare = a
	s.spares++
}

// rebuild copies the agents into a map sized for them, releasing the
// memory of a map that held four times as many. At least three quarters
// of its peak were deleted since the last rebuild, so the copy is
// amortised O(1) per deletion.
func (s *shard) rebuild() {
	m := make(map[string]*agentLogs, len(s.agents))
	for id, a := range s.agents {
		m[id] = a
	}
	s.agents, s.peak = m, len(m)
}

// sweep expires a batch of agents in another shard unless that shard is
// busy; the next sweep will come soon enough.
func (s *shard) sweep(now int64) {
	if s.mu.TryLock() {
		s.expire(now, sweepBatch)
		s.mu.Unlock()
	}
}

// forget stops tracking one agent.
func (s *shard) forget(id string) {
	if a, ok := s.agents[id]; ok {
		a.forgotten = true
		delete(s.agents, id)
	}
}

// forgetAll stops tracking every agent.
func (s *shard) forgetAll() {
	s.agents = make(map[string]*agentLogs)
	s.head, s.tail, s.peak, s.spare, s.spares = nil, nil, 0, nil, 0
}
