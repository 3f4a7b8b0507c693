package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/tollgate-go/tollgate"
)

// SlidingWindow is an in-memory sliding-log rate limiter with Tollgate's
// rule semantics (see Rule), safe for concurrent use.
//
// Every rule that applies to a call keeps one log per agent. A call is
// allowed when every applicable log has room; it is then recorded in all of
// them at once. A refused call is recorded nowhere, so exceeding one limit
// never uses up another (Tollgate counted a refused call against the rules
// listed before the refusing one).
type SlidingWindow struct {
	rules    []rule
	clock    func() time.Time
	base     time.Time // timestamps are nanoseconds since base
	seed     maphash.Seed
	shards   []shard
	mask     uint64
	perShard int
	fullMsg  string
}

// shard holds the logs of the agents whose ids hash to it. All logs of one
// agent live in one shard, so one lock makes check-then-record atomic across
// all rules.
type shard struct {
	mu     sync.Mutex
	agents map[string]*agentLogs
	// nextIdle is a lower bound on when the first agent of this shard can
	// become idle; eviction scans are skipped before then.
	nextIdle int64
}

// agentLogs are one agent's logs, indexed like the rules. The key is the
// exact agent id, so ids cannot collide.
type agentLogs struct {
	logs []ring
	// idleAt is when every counted call of this agent will have left its
	// window.
	idleAt int64
}

// NewSlidingWindow returns a limiter enforcing rules, which are checked in
// order: when several refuse a call, the first one gives the reason.
func NewSlidingWindow(rules []Rule, opts ...Option) (*SlidingWindow, error) {
	o := options{clock: time.Now, maxKeys: DefaultMaxKeys}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		return nil, errors.New("ratelimit: WithClock: clock is nil")
	}
	if o.maxKeys < 1 {
		return nil, fmt.Errorf("ratelimit: WithMaxKeys: must be >= 1, got %d", o.maxKeys)
	}
	l := &SlidingWindow{
		rules:   make([]rule, len(rules)),
		clock:   o.clock,
		base:    o.clock(),
		seed:    maphash.MakeSeed(),
		fullMsg: fmt.Sprintf("Rate limit exceeded: the limiter is tracking its maximum of %d active agents", o.maxKeys),
	}
	for i, r := range rules {
		c, err := compile(i+1, r)
		if err != nil {
			return nil, err
		}
		l.rules[i] = c
	}
	n := 1
	for n < 32 && o.maxKeys/(2*n) >= 1024 {
		n *= 2
	}
	l.shards = make([]shard, n)
	for i := range l.shards {
		l.shards[i].agents = make(map[string]*agentLogs)
	}
	l.mask = uint64(n - 1)
	l.perShard = (o.maxKeys + n - 1) / n
	return l, nil
}

// maxMatched is how many matching rules Allow tracks without allocating.
const maxMatched = 16

// Allow checks every rule that applies to the call and, when all have room,
// records the call in each of them. It never blocks, ignores ctx and never
// returns an error.
func (l *SlidingWindow) Allow(_ context.Context, agent tollgate.Agent, req tollgate.ToolRequest) (Result, error) {
	var buf [maxMatched]int
	matched := buf[:0]
	for i := range l.rules {
		if l.rules[i].matches(agent.ID, &req) {
			matched = append(matched, i)
		}
	}
	if len(matched) == 0 {
		return allowed, nil
	}
	now := int64(l.clock().Sub(l.base))
	s := l.shard(agent.ID)
	s.mu.Lock()
	defer s.mu.Unlock()

	a := s.agents[agent.ID]
	for _, i := range matched {
		r := &l.rules[i]
		if a == nil {
			if r.maxCalls == 0 {
				return r.refuse(i, agent.ID, nil, now), nil
			}
			continue
		}
		log := &a.logs[i]
		log.prune(now - r.window)
		if log.n >= r.maxCalls {
			return r.refuse(i, agent.ID, log, now), nil
		}
	}
	if a == nil {
		if len(s.agents) >= l.perShard && !s.evictIdle(now) {
			return Result{Reason: l.fullMsg, RetryAfter: time.Duration(max(s.nextIdle-now, 0)), Rule: -1}, nil
		}
		a = &agentLogs{logs: make([]ring, len(l.rules))}
		s.agents[agent.ID] = a
	}
	for _, i := range matched {
		r := &l.rules[i]
		a.logs[i].push(now, r.maxCalls)
		a.idleAt = max(a.idleAt, now+r.window)
	}
	s.nextIdle = min(s.nextIdle, a.idleAt)
	return allowed, nil
}

func (r *rule) refuse(i int, agentID string, log *ring, now int64) Result {
	res := Result{Rule: i, RetryAfter: time.Duration(r.window)}
	count := 0
	if log != nil && log.n > 0 {
		count = log.n
		res.RetryAfter = time.Duration(max(log.oldest()+r.window-now, 0))
	}
	res.Reason = r.reason(count, agentID)
	return res
}

func (l *SlidingWindow) shard(agentID string) *shard {
	if l.mask == 0 {
		return &l.shards[0]
	}
	return &l.shards[maphash.String(l.seed, agentID)&l.mask]
}

// evictIdle forgets every agent whose counted calls have all expired and
// reports whether any was forgotten.
func (s *shard) evictIdle(now int64) bool {
	if now < s.nextIdle {
		return false
	}
	freed := false
	next := int64(math.MaxInt64)
	for id, a := range s.agents {
		if a.idleAt <= now {
			delete(s.agents, id)
			freed = true
		} else {
			next = min(next, a.idleAt)
		}
	}
	s.nextIdle = next
	return freed
}

// Reset forgets the counts of the agent with exactly this id.
func (l *SlidingWindow) Reset(agentID string) {
	s := l.shard(agentID)
	s.mu.Lock()
	delete(s.agents, agentID)
	s.mu.Unlock()
}

// ResetAll forgets all counts.
func (l *SlidingWindow) ResetAll() {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		clear(s.agents)
		s.nextIdle = 0
		s.mu.Unlock()
	}
}
