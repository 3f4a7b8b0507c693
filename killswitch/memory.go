package killswitch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Memory is an in-process Store: its switches stop the calls of the
// Towers in this process only, and are gone when it exits. Its Matcher
// never fails.
type Memory struct {
	now     func() time.Time
	mu      sync.Mutex
	byID    map[string]Switch
	matcher atomic.Pointer[Matcher]
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store. Of the options only
// WithClock applies.
func NewMemory(opts ...Option) (*Memory, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	m := &Memory{now: o.now, byID: make(map[string]Switch)}
	m.matcher.Store(&Matcher{})
	return m, nil
}

// Matcher implements Source.
func (m *Memory) Matcher() (*Matcher, error) { return m.matcher.Load(), nil }

// Set implements Store.
func (m *Memory) Set(ctx context.Context, s Switch) (Switch, error) {
	if err := ctx.Err(); err != nil {
		return Switch{}, err
	}
	now := m.now()
	if s.SetAt.IsZero() {
		s.SetAt = now
	}
	if err := s.Validate(); err != nil {
		return Switch{}, err
	}
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[s.ID]; ok {
		return Switch{}, fmt.Errorf("%w: %q", ErrExists, s.ID)
	}
	for id, old := range m.byID {
		if !old.InForce(now) {
			delete(m.byID, id)
		}
	}
	m.byID[s.ID] = s
	return s, m.publish()
}

// Lift implements Store.
func (m *Memory) Lift(ctx context.Context, id string) (Switch, bool, error) {
	if err := ctx.Err(); err != nil {
		return Switch{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return Switch{}, false, nil
	}
	delete(m.byID, id)
	return s, true, m.publish()
}

// List implements Store.
func (m *Memory) List(ctx context.Context, now time.Time) ([]Switch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if now.IsZero() {
		return nil, ErrZeroTime
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return InForceAt(slices.Collect(maps.Values(m.byID)), now), nil
}

// publish compiles the switches into the Matcher the pipeline reads. It
// runs under mu. Switches in the map were validated, so it cannot fail.
func (m *Memory) publish() error {
	c, err := Compile(slices.Collect(maps.Values(m.byID)))
	if err != nil {
		return err
	}
	m.matcher.Store(c)
	return nil
}

// InForceAt returns the switches of list in force at now, in List order
// (SetAt, then ID), reusing list's memory. Backends use it to answer List.
func InForceAt(list []Switch, now time.Time) []Switch {
	list = slices.DeleteFunc(list, func(s Switch) bool { return !s.InForce(now) })
	slices.SortFunc(list, func(a, b Switch) int { return compare(&a, &b) })
	return list
}
