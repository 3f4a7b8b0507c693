package identity

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultReplayCacheSize bounds a MemoryReplayCache unless WithMaxEntries
// says otherwise.
const DefaultReplayCacheSize = 100_000

// maxJTILen bounds the "jti" of a single-use token, so that the replay
// cache's memory is bounded by its entry count.
const maxJTILen = 256

var (
	// ErrReplayed means a single-use token was presented again.
	ErrReplayed = errors.New("identity: token already used")
	// ErrReplayCacheFull means a MemoryReplayCache holds as many unexpired
	// entries as it may; the token is refused (fail closed).
	ErrReplayCacheFull = errors.New("identity: replay cache is full")
)

// ReplayCache remembers the "jti" of single-use tokens until they expire
// (WithReplayCache). Implementations must be safe for concurrent use and
// atomic: of any number of concurrent MarkUsed calls with one jti, exactly
// one succeeds while it is unexpired.
type ReplayCache interface {
	// MarkUsed records jti as used until expiresAt. It returns an error
	// wrapping ErrReplayed when jti is already recorded and unexpired, and
	// another error when it cannot tell (the call is then refused too).
	MarkUsed(ctx context.Context, jti string, expiresAt time.Time) error
}

// MemoryReplayCache is a ReplayCache in process memory, for a single
// server. It is bounded (WithMaxEntries) and forgets each jti when it
// expires. It is safe for concurrent use.
type MemoryReplayCache struct {
	now func() time.Time
	max int

	mu     sync.Mutex
	used   map[string]time.Time
	expiry expiryHeap // one entry per key of used, soonest expiry first
}

type replayConfig struct {
	now func() time.Time
	max int
}

// NewMemoryReplayCache returns an empty MemoryReplayCache.
func NewMemoryReplayCache(opts ...ReplayCacheOption) *MemoryReplayCache {
	cfg := replayConfig{now: time.Now, max: DefaultReplayCacheSize}
	for _, o := range opts {
		o.applyReplay(&cfg)
	}
	if cfg.max <= 0 {
		cfg.max = DefaultReplayCacheSize
	}
	return &MemoryReplayCache{now: cfg.now, max: cfg.max, used: make(map[string]time.Time)}
}

// MarkUsed records jti until expiresAt. An already expired token is not
// recorded: no verifier accepts it anyway.
func (m *MemoryReplayCache) MarkUsed(_ context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return errors.New("identity: MarkUsed needs a jti")
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetExpired(now)
	if _, ok := m.used[jti]; ok {
		return fmt.Errorf("%w: jti %q", ErrReplayed, jti)
	}
	if !now.Before(expiresAt) {
		return nil
	}
	if len(m.used) >= m.max {
		return fmt.Errorf("%w (%d unexpired tokens); raise WithMaxEntries or shorten token lifetimes", ErrReplayCacheFull, len(m.used))
	}
	m.used[jti] = expiresAt
	heap.Push(&m.expiry, expiryEntry{jti, expiresAt})
	return nil
}

// Len returns how many unexpired jti values the cache holds.
func (m *MemoryReplayCache) Len() int {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetExpired(now)
	return len(m.used)
}

func (m *MemoryReplayCache) forgetExpired(now time.Time) {
	for len(m.expiry) > 0 && !now.Before(m.expiry[0].at) {
		delete(m.used, heap.Pop(&m.expiry).(expiryEntry).jti)
	}
}

type expiryEntry struct {
	jti string
	at  time.Time
}

// expiryHeap is a min-heap of expiry times (container/heap).
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
