package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Emit after Close, and by a second Close.
var ErrClosed = errors.New("audit: sink is closed")

// errLocked means another open file description holds the log's lock.
var errLocked = errors.New("log is locked")

// FileSink writes events as hash-chained JSONL: Tollgate's audit line with
// `"seq": N, "prev_hash": "<hex>", "hash": "<hex>"` appended, where hash is
// the SHA-256 of the line up to `, "hash": `. Verify checks the chain.
//
// Concurrent Emit calls are group-committed: while one caller (the leader)
// writes, the others queue their lines; the next leader writes all queued
// lines with one write(2) and, under DurabilitySync, one fsync, then
// releases their callers. A lone caller writes its own line without any
// hand-off. Emit returns only when its line is as durable as the sink's
// Durability says (DurabilityOS by default: in the operating system), so
// a failed write reaches the caller, who must then refuse the call.
//
// FileSink is safe for concurrent use. The file is locked (flock) while
// open, so a second FileSink cannot fork the chain.
type FileSink struct {
	redactor *Redactor
	maxValue int
	w        *writer
	segs     *segments
	failed   atomic.Uint64 // Emit calls that returned an error

	mu      sync.Mutex
	idle    *sync.Cond // signalled when leading becomes false
	pending []*request // queued lines, oldest first
	leading bool       // a caller is writing; it hands over before leaving
	closed  bool

	batch    []*request // the leader's batch buffer (only the leader uses it)
	stopTick func()     // stops the ticking goroutine and waits for it
}

// OpenFile opens (creating it and its parent directories, mode 0600/0700)
// the log at path and continues its hash chain after the last line. It
// refuses a file whose last line is not a valid chain line — corrupt,
// edited, written by Tollgate itself (no chain), or cut short by a crash —
// because appending would fork or hide the chain; the error says what to
// do. Close the sink when done.
func OpenFile(path string, opts ...Option) (*FileSink, error) {
	cfg := defaultFileConfig()
	for _, o := range opts {
		o.applyFile(&cfg)
	}
	if path == "" {
		return nil, errors.New("audit: log path must not be empty")
	}
	ckpt, err := cfg.checkpointer()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: create log directory: %w", err)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open log: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("audit: %s is already open in another FileSink or process; two writers would fork the hash chain", path)
		}
		return nil, fmt.Errorf("audit: lock %s: %w", path, err)
	}
	size, head, err := resume(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	if created {
		// Make the new file's directory entry durable too.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: sync log directory: %w", err)
		}
	}
	var t ticks
	if d := cfg.durability.interval(); d > 0 && cfg.durability.mode == modeOS {
		t.fsync = time.NewTicker(d).C // collected once unreachable
	} else if d > 0 {
		t.flush = time.NewTicker(d).C
	}
	if ckpt != nil && ckpt.interval > 0 {
		t.checkpoint = time.NewTicker(ckpt.interval).C
	}
	w := newWriter(f, size, head, cfg.durability)
	w.ckpt = ckpt
	return startFileSink(w, cfg, t), nil
}

// ticks drive the background goroutine: fsync (DurabilityOS), flush
// (DurabilityBuffered) and checkpoint (WithCheckpointEvery's interval, so
// that an idle log is signed too). Any may be nil.
type ticks struct{ fsync, flush, checkpoint <-chan time.Time }

// startFileSink returns a sink writing through w. When a tick channel is
// set, a goroutine serves it until Close.
func startFileSink(w *writer, cfg fileConfig, t ticks) *FileSink {
	s := &FileSink{redactor: cfg.redactor, maxValue: cfg.maxValue, w: w, segs: newSegments(), stopTick: func() {}}
	s.idle = sync.NewCond(&s.mu)
	if t.fsync != nil || t.flush != nil || t.checkpoint != nil {
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			for {
				select {
				case <-t.fsync:
					w.syncIfDirty()
				case <-t.flush:
					s.tick(tickFlush)
				case <-t.checkpoint:
					s.tick(tickCheckpoint)
				case <-stop:
					return
				}
			}
		}()
		s.stopTick = func() { close(stop); <-stopped }
	}
	return s
}

// tick has the writer flush or sign (tickFlush, tickCheckpoint) between
// lines. A failure here breaks the writer or reaches the next Emit; a
// closed sink flushes and signs on Close.
func (s *FileSink) tick(what uint8) {
	r := requests.Get().(*request)
	r.tick = what
	_ = s.submit(r)
}

// Emit redacts e, bounds it (WithMaxValueSize), writes it as the next line
// of the chain and returns when the line is as durable as the sink's
// Durability says: written to the file (DurabilityOS), and synced
// (DurabilitySync), or buffered (DurabilityBuffered). An error means the event is not in the log; it is
// counted in Failures.
//
// Emit does not give up when ctx is done: every exit of a call, including
// cancellation, must be audited, so an event handed to Emit is always
// written or failed.
func (s *FileSink) Emit(_ context.Context, e *Event) error {
	if e == nil {
		s.failed.Add(1)
		return errors.New("audit: nil event")
	}
	r := requests.Get().(*request)
	r.line = s.segs.appendRecord(r.line[:0], e, s.redactor, s.maxValue)
	if len(r.line)+chainOverhead > MaxLineSize { // appendRecord bounds it: not expected
		requests.Put(r)
		s.failed.Add(1)
		return fmt.Errorf("audit: event of %d bytes is larger than MaxLineSize (%d)", len(r.line), MaxLineSize)
	}
	err := s.submit(r)
	if err != nil {
		s.failed.Add(1)
	}
	return err
}

// Failures returns how many Emit calls failed: each is an event missing
// from the log (and a call the caller had to refuse, or whose outcome is
// not recorded), so it belongs on a dashboard beside the error log.
func (s *FileSink) Failures() uint64 { return s.failed.Load() }

// submit queues r and returns when it is written.
func (s *FileSink) submit(r *request) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		r.release()
		return ErrClosed
	}
	s.pending = append(s.pending, r)
	lead := !s.leading
	s.leading = true
	s.mu.Unlock()

	if !lead {
		// Another caller is writing: it (or a leader it hands over to) writes
		// r, or makes this caller the next leader.
		if lead = <-r.done; !lead {
			return r.release()
		}
	}
	s.lead(r)
	return r.release()
}

// lead writes queued lines, oldest first, until r is written, then hands
// the lead to the oldest caller still queued (or gives it up).
func (s *FileSink) lead(r *request) {
	for !r.written {
		batch := s.take()
		err := s.w.write(batch, 0)
		for _, q := range batch {
			q.err, q.written = err, true
			if q != r {
				q.done <- false
			}
		}
		clear(batch)
	}
	s.mu.Lock()
	if len(s.pending) > 0 {
		next := s.pending[0]
		s.mu.Unlock()
		next.done <- true
		return
	}
	s.leading = false
	s.idle.Broadcast()
	s.mu.Unlock()
}

// take removes the oldest queued lines, at most maxBatch of them and
// maxBatchBytes in all (but at least one), into the leader's batch.
func (s *FileSink) take() []*request {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, size := 0, 0
	for n < len(s.pending) && n < maxBatch && (n == 0 || size+len(s.pending[n].line) <= maxBatchBytes) {
		size += len(s.pending[n].line)
		n++
	}
	s.batch = append(s.batch[:0], s.pending[:n]...)
	rest := copy(s.pending, s.pending[n:])
	clear(s.pending[rest:])
	s.pending = s.pending[:rest]
	return s.batch
}

// Head returns the seq and hash of the last line in the log (0 and
// GenesisHash when it is empty). A hash chain shows edits but not lines cut
// from the end; recording Head elsewhere from time to time closes that gap.
func (s *FileSink) Head() (seq uint64, hash string) {
	return s.w.head()
}

// Close waits for the events already handed to Emit to be written, writes
// what is buffered, signs them with a last checkpoint (WithCheckpointKey),
// then syncs and closes the file. Emit after Close returns ErrClosed.
func (s *FileSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	for s.leading { // the leaders drain the queue before the last one leaves
		s.idle.Wait()
	}
	s.mu.Unlock()
	s.stopTick()
	// No leader is left and none can start: this is the writer's last use.
	err := s.w.write(nil, tickCheckpoint|tickFlush)
	return errors.Join(err, s.w.close())
}

// request is one queued line. written and err are set by the leader that
// writes it; done tells a waiting caller that its line is written (false)
// or that it is the next leader (true).
type request struct {
	line    []byte // the event JSON, without chain keys
	tick    uint8  // no line: tickFlush or tickCheckpoint
	written bool
	err     error
	done    chan bool
}

var requests = sync.Pool{New: func() any { return &request{done: make(chan bool, 1)} }}

// release returns the request to the pool and its result to the caller.
func (r *request) release() error {
	err := r.err
	r.written, r.err, r.tick = false, nil, 0
	if cap(r.line) <= maxPooledLine {
		requests.Put(r)
	}
	return err
}

const (
	maxBatch      = 256     // lines per write
	maxBatchBytes = 1 << 20 // bytes per write, unless one line is larger
	maxPooledLine = 64 << 10
	// chainOverhead is the most the chain keys and newline add to a line.
	chainOverhead = len(`, "seq": 18446744073709551615, "prev_hash": ""`) + 64 + len(hashKey) + 64 + len(`"}`) + 1
)
