package ratelimit

import (
	"context"
	"errors"
	"hash/maphash"
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
//
// The limiter tracks only agents with a counted call still inside its
// window, and never refuses a call for lack of room: see the package
// documentation on memory.
type SlidingWindow struct {
	rules  []rule
	clock  func() time.Time
	base   time.Time // timestamps are nanoseconds since base
	seed   maphash.Seed
	shards []shard
}

// NewSlidingWindow returns a limiter enforcing rules, which are checked in
// order: when several refuse a call, the first one gives the reason.
func NewSlidingWindow(rules []Rule, opts ...Option) (*SlidingWindow, error) {
	o := options{clock: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		return nil, errors.New("ratelimit: WithClock: clock is nil")
	}
	l := &SlidingWindow{
		rules:  make([]rule, len(rules)),
		clock:  o.clock,
		base:   o.clock(),
		seed:   maphash.MakeSeed(),
		shards: newShards(),
	}
	for i, r := range rules {
		c, err := compile(i+1, r)
		if err != nil {
			return nil, err
		}
		l.rules[i] = c
	}
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
	res := l.allow(s, agent.ID, matched, now)
	var peer *shard
	if s.calls++; s.calls%sweepEvery == 0 {
		peer = &l.shards[s.peer]
		s.peer = (s.peer + 1) % len(l.shards)
	}
	s.mu.Unlock()
	if peer != nil {
		peer.sweep(now)
	}
	return res, nil
}

// allow decides a call in its agent's shard, whose lock the caller holds.
func (l *SlidingWindow) allow(s *shard, agentID string, matched []int, now int64) Result {
	s.expire(now, expireBatch)
	a := s.agents[agentID]
	for _, i := range matched {
		r := &l.rules[i]
		if a == nil {
			if r.maxCalls == 0 {
				return r.refuse(i, agentID, nil, now)
			}
			continue
		}
		log := &a.logs[i]
		log.prune(now - r.window)
		if log.n >= r.maxCalls {
			return r.refuse(i, agentID, log, now)
		}
	}
	fresh := a == nil
	if fresh {
		a = s.add(agentID, len(l.rules))
	}
	for _, i := range matched {
		r := &l.rules[i]
		a.logs[i].push(now, r.maxCalls)
		a.idleAt = max(a.idleAt, now+r.window)
	}
	if fresh {
		a.due = a.idleAt
	}
	return allowed
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
	return &l.shards[maphash.String(l.seed, agentID)%shardCount]
}

// Reset forgets the counts of the agent with exactly this id.
func (l *SlidingWindow) Reset(agentID string) {
	s := l.shard(agentID)
	s.mu.Lock()
	s.forget(agentID)
	s.mu.Unlock()
}

// ResetAll forgets all counts.
func (l *SlidingWindow) ResetAll() {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		s.forgetAll()
		s.mu.Unlock()
	}
}
