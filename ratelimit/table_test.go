package ratelimit

import (
	"strconv"
	"testing"
)

// fill adds n agents, each idle and due at idleAt.
func fill(s *shard, n int, idleAt int64) {
	for i := range n {
		a := s.add("agent-"+strconv.Itoa(i), 1)
		a.logs[0].push(idleAt-1, 100)
		a.idleAt, a.due = idleAt, idleAt
	}
}

// An agent that made calls since it was queued goes to the back with its
// new idle time; agents behind it are still looked at in the same pass.
func TestExpireRequeuesActiveAgents(t *testing.T) {
	s := &newShards()[0]
	fill(s, 3, 10)
	s.agents["agent-0"].idleAt = 20 // called again after it was queued
	s.expire(10, expireBatch)
	if len(s.agents) != 1 || s.agents["agent-0"] == nil || s.head != s.tail || s.head.due != 20 {
		t.Fatalf("after t=10: %d agents, head due %d; want agent-0 alone, due at 20", len(s.agents), s.head.due)
	}
	s.expire(19, expireBatch)
	if len(s.agents) != 1 {
		t.Fatal("agent-0 forgotten before its idle time")
	}
	s.expire(20, expireBatch)
	if len(s.agents) != 0 || s.head != nil || s.tail != nil {
		t.Fatalf("after t=20: %d agents, want none", len(s.agents))
	}
}

// Each call looks at a bounded number of agents, however many are due.
func TestExpireIsBounded(t *testing.T) {
	s := &newShards()[0]
	fill(s, 100, 10)
	s.expire(10, expireBatch)
	if len(s.agents) != 100-expireBatch {
		t.Fatalf("%d agents left, want %d", len(s.agents), 100-expireBatch)
	}
}

// Once three quarters of a shard's peak are forgotten its map is rebuilt
// (a Go map never shrinks), and only a few emptied logs are kept for reuse,
// without long timestamp buffers.
func TestForgottenAgentsReleaseMemory(t *testing.T) {
	s := &newShards()[0]
	fill(s, 4*shrinkMin, 10)
	s.agents["agent-0"].logs[0].ts = make([]int64, 10*spareLog)
	for s.head != nil {
		s.expire(10, sweepBatch)
	}
	if len(s.agents) != 0 || s.peak >= shrinkMin {
		t.Fatalf("%d agents, map sized for %d: not rebuilt", len(s.agents), s.peak)
	}
	if s.spares != spareMax {
		t.Fatalf("%d spares kept, want %d", s.spares, spareMax)
	}
	for a := s.spare; a != nil; a = a.next {
		if l := a.logs[0]; l.n != 0 || cap(l.ts) > spareLog || a.id != "" || a.idleAt != 0 {
			t.Fatalf("spare not emptied: %+v", a)
		}
	}
	a := s.add("new", 1)
	if a.logs[0].n != 0 || s.spares != spareMax-1 || s.agents["new"] != a {
		t.Fatal("add did not reuse a spare")
	}
}
