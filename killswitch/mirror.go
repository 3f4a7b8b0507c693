package killswitch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// LoadFunc reads every switch a shared backend holds (expired ones may be
// included: the Matcher skips them).
type LoadFunc func(ctx context.Context) ([]Switch, error)

// Mirror is a process's compiled copy of the switches in a backend that
// several processes share (SQLite, Redis), so that the pipeline's check
// never waits on I/O. It is kept fresh three ways: Sync re-reads the
// backend at once (a store calls it after each change it makes, so the
// change is in force here when Set returns), Wake asks Run to re-read it
// soon (a backend's change announcement, such as a Redis pub/sub
// message), and Run re-reads it every resync interval in any case, which
// bounds how late a lost announcement is made up for.
//
// A Mirror fails closed: Matcher returns ErrStale when the last read that
// succeeded started more than the staleness bound ago (or none ever did),
// because a replica that cannot reach the backend cannot know whether a
// switch was set meanwhile.
type Mirror struct {
	load LoadFunc
	opt  options
	wake chan struct{}

	syncMu sync.Mutex // one read at a time, so a newer state is never replaced by an older one
	state  atomic.Pointer[mirrorState]
}

type mirrorState struct {
	matcher   *Matcher
	confirmed time.Time // when the read that produced matcher started
}

// NewMirror returns a Mirror of the backend load reads. It holds nothing
// until its first Sync (Matcher fails with ErrStale until then).
func NewMirror(load LoadFunc, opts ...Option) (*Mirror, error) {
	if load == nil {
		return nil, fmt.Errorf("killswitch: NewMirror needs a LoadFunc")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Mirror{load: load, opt: o, wake: make(chan struct{}, 1)}, nil
}

// Matcher implements Source: the switches as last read, or ErrStale.
func (m *Mirror) Matcher() (*Matcher, error) {
	st := m.state.Load()
	if st == nil {
		return nil, fmt.Errorf("%w: never read from the store (is the store's Run running?)", ErrStale)
	}
	if age := m.opt.now().Sub(st.confirmed); age > m.opt.maxStaleness {
		return nil, fmt.Errorf("%w: last confirmed %v ago, over the %v bound", ErrStale, age.Round(time.Millisecond), m.opt.maxStaleness)
	}
	return st.matcher, nil
}

// Confirmed returns when the read behind the current state started (zero
// before the first).
func (m *Mirror) Confirmed() time.Time {
	if st := m.state.Load(); st != nil {
		return st.confirmed
	}
	return time.Time{}
}

// Sync reads the backend now and, when the read succeeds, makes what it
// read the state Matcher answers from. A failed read leaves the state as
// it was, growing older.
func (m *Mirror) Sync(ctx context.Context) error {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	start := m.opt.now()
	list, err := m.load(ctx)
	if err != nil {
		return fmt.Errorf("killswitch: read switches: %w", err)
	}
	c, err := Compile(list)
	if err != nil {
		return err
	}
	m.state.Store(&mirrorState{matcher: c, confirmed: start})
	return nil
}

// Wake asks Run to Sync as soon as it can. It never blocks; wake-ups that
// arrive while one is pending are merged.
func (m *Mirror) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run syncs at once, then on every Wake and every resync interval, until
// ctx ends; it returns ctx's error. Each read is bounded by the staleness
// bound, so a backend that stopped answering cannot hold Run past the
// point where Matcher fails closed anyway. Failed reads are reported to
// onError, when it is not nil, and retried at the next tick.
func (m *Mirror) Run(ctx context.Context, onError func(error)) error {
	tick := time.NewTicker(m.opt.resync)
	defer tick.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, m.opt.maxStaleness)
		err := m.Sync(sctx)
		cancel()
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-m.wake:
		}
	}
}
