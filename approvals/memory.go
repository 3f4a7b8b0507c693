package approvals

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-go/tollgate"
)

// MemoryStore is an in-process Store, safe for concurrent use. It keeps
// every record for the life of the process, so it suits tests, examples and
// single-node deployments with modest approval volumes. Records are deep
// copies: callers cannot change a stored request through a value they
// passed in or got back.
type MemoryStore struct {
	mu    sync.Mutex
	order []*memoryEntry // creation order
	byID  map[string]*memoryEntry
}

type memoryEntry struct {
	rec     Record
	decided chan struct{} // closed by the Decide that settles the request
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory Store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{byID: make(map[string]*memoryEntry)}
}

var errZeroNow = errors.New("approvals: now is zero; pass the current time")

// Create implements Store.
func (m *MemoryStore) Create(ctx context.Context, r Request) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := r.Validate(); err != nil {
		return "", err
	}
	binding := BindingHash(r.Agent, r.Intent, r.ToolRequest)
	r, err := cloneRequest(r)
	if err != nil {
		return "", err
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[r.ID]; ok {
		return "", fmt.Errorf("%w: %q", ErrExists, r.ID)
	}
	e := &memoryEntry{
		rec:     Record{Request: r, BindingHash: binding, CreatedAt: time.Now(), Outcome: OutcomeDeferred},
		decided: make(chan struct{}),
	}
	m.order = append(m.order, e)
	m.byID[r.ID] = e
	return r.ID, nil
}

// entry returns the entry for id; m.mu must be held.
func (m *MemoryStore) entry(id string) (*memoryEntry, error) {
	e, ok := m.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return e, nil
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.entry(id)
	if err != nil {
		return Record{}, err
	}
	return e.snapshot(), nil
}

// snapshot returns a copy of the record that shares nothing with the store.
// Stored requests were validated by cloneRequest, so cloning cannot fail.
func (e *memoryEntry) snapshot() Record {
	rec := e.rec
	rec.Request, _ = cloneRequest(e.rec.Request)
	rec.Decisions = slices.Clone(e.rec.Decisions)
	return rec
}

// Decide implements Store.
func (m *MemoryStore) Decide(ctx context.Context, id string, d Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.entry(id)
	if err != nil {
		return err
	}
	if err := e.rec.Apply(d); err != nil {
		return err
	}
	if !e.rec.Pending() {
		close(e.decided)
	}
	return nil
}

// Wait implements Store.
func (m *MemoryStore) Wait(ctx context.Context, id string) (Record, error) {
	m.mu.Lock()
	e, err := m.entry(id)
	m.mu.Unlock()
	if err != nil {
		return Record{}, err
	}
	select {
	case <-e.decided:
	case <-ctx.Done():
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return e.snapshot(), nil
}

// Consume implements Store.
func (m *MemoryStore) Consume(ctx context.Context, id, bindingHash string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if now.IsZero() {
		return errZeroNow
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.entry(id)
	if err != nil {
		return err
	}
	// The binding is checked first so that a different call learns nothing
	// about the state of someone else's approval.
	if subtle.ConstantTimeCompare([]byte(bindingHash), []byte(e.rec.BindingHash)) != 1 {
		return fmt.Errorf("%w: %q", ErrMismatch, id)
	}
	switch {
	case e.rec.Pending():
		return fmt.Errorf("%w: %q is still pending", ErrNotApproved, id)
	case e.rec.Outcome != OutcomeApproved:
		return fmt.Errorf("%w: %q was %s by %s", ErrNotApproved, id, e.rec.Outcome, e.rec.DecidedBy)
	case !e.rec.UsedAt.IsZero():
		return fmt.Errorf("%w: %q was used at %s", ErrUsed, id, e.rec.UsedAt.Format(time.RFC3339Nano))
	case !now.Before(e.rec.Request.ExpiresAt):
		return fmt.Errorf("%w: %q expired at %s", ErrExpired, id, e.rec.Request.ExpiresAt.Format(time.RFC3339))
	}
	e.rec.UsedAt = now
	return nil
}

// List implements Store.
func (m *MemoryStore) List(ctx context.Context, pendingOnly bool) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, e := range m.order {
		if !pendingOnly || e.rec.Pending() {
			out = append(out, e.snapshot())
		}
	}
	return out, nil
}

// cloneRequest deep-copies the mutable parts of r.
func cloneRequest(r Request) (Request, error) {
	var err error
	r.Agent.DelegatedBy = slices.Clone(r.Agent.DelegatedBy)
	if r.Intent.Confidence != nil {
		c := *r.Intent.Confidence
		r.Intent.Confidence = &c
	}
	for _, p := range []*tollgate.Params{&r.Agent.Metadata, &r.Intent.Metadata, &r.ToolRequest.Params, &r.ToolRequest.Metadata} {
		if *p, err = cloneParams(*p, 0); err != nil {
			return Request{}, err
		}
	}
	return r, nil
}

func cloneParams(p tollgate.Params, depth int) (tollgate.Params, error) {
	if p == nil {
		return nil, nil
	}
	out := make(tollgate.Params, len(p))
	for i, f := range p {
		v, err := cloneValue(f.Value, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = tollgate.Field{Key: f.Key, Value: v}
	}
	return out, nil
}

func cloneValue(v any, depth int) (any, error) {
	if depth > tollgate.MaxDepth {
		return nil, fmt.Errorf("%w: values nest deeper than %d levels", ErrInvalidRequest, tollgate.MaxDepth)
	}
	switch t := v.(type) {
	case tollgate.Params:
		return cloneParams(t, depth)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			var err error
			if out[i], err = cloneValue(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []string:
		return slices.Clone(t), nil
	}
	return v, nil // nil, bool, string and numbers are immutable
}
