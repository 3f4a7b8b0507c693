package grants

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-go/tollgate"
)

// Memory is an in-process Store, safe for concurrent use. Grants live until
// CleanupExpired removes them. Consume scans the grants in order, so it
// suits the tens to hundreds of grants a deployment typically holds.
type Memory struct {
	mu     sync.Mutex
	sorted []*Grant // in Compare order
	byID   map[string]*Grant
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory {
	return &Memory{byID: make(map[string]*Grant)}
}

// Create implements Store.
func (m *Memory) Create(ctx context.Context, g Grant) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	if err := g.Validate(); err != nil {
		return Grant{}, err
	}
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now()
	}
	g.Uses, g.Revoked = 0, false

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[g.ID]; ok {
		return Grant{}, fmt.Errorf("%w: %q", ErrExists, g.ID)
	}
	stored := &g
	i, _ := slices.BinarySearchFunc(m.sorted, stored, func(a, b *Grant) int { return Compare(*a, *b) })
	m.sorted = slices.Insert(m.sorted, i, stored)
	m.byID[g.ID] = stored
	return g, nil
}

// Consume implements Store.
func (m *Memory) Consume(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest, now time.Time) (Grant, bool, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, false, err
	}
	if now.IsZero() {
		return Grant{}, false, ErrZeroTime
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range m.sorted {
		if g.matches(&agent, &req) && g.Active(now) {
			g.Uses++
			return *g, true, nil
		}
	}
	return Grant{}, false, nil
}

// Revoke implements Store.
func (m *Memory) Revoke(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.byID[id]
	if !ok || g.Revoked {
		return false, nil
	}
	g.Revoked = true
	return true, nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, id string) (Grant, bool, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if g, ok := m.byID[id]; ok {
		return *g, true, nil
	}
	return Grant{}, false, nil
}

// List implements Store.
func (m *Memory) List(ctx context.Context, f Filter) ([]Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !f.IncludeInactive && f.Now.IsZero() {
		return nil, fmt.Errorf("%w (Filter.Now is required unless IncludeInactive is set)", ErrZeroTime)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Grant
	for _, g := range m.sorted {
		if (f.AgentID == "" || g.AgentID == f.AgentID) && (f.IncludeInactive || g.Active(f.Now)) {
			out = append(out, *g)
		}
	}
	return out, nil
}

// CleanupExpired implements Store.
func (m *Memory) CleanupExpired(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if now.IsZero() {
		return 0, ErrZeroTime
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	before := len(m.sorted)
	m.sorted = slices.DeleteFunc(m.sorted, func(g *Grant) bool {
		if g.ExpiresAt.After(now) {
			return false
		}
		delete(m.byID, g.ID)
		return true
	})
	return before - len(m.sorted), nil
}
