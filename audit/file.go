package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// ErrClosed is returned by Emit after Close, and by a second Close.
var ErrClosed = errors.New("audit: sink is closed")

// FileSink writes events as hash-chained JSONL: Tollgate's audit line with
// `"seq": N, "prev_hash": "<hex>", "hash": "<hex>"` appended, where hash is
// the SHA-256 of the line up to `, "hash": `. Verify checks the chain.
//
// Concurrent Emit calls are group-committed: one writer goroutine writes
// every queued line with one write(2) (and one fsync under FsyncBatch), then
// releases the callers. Emit returns only when its line is written, so a
// failed write reaches the caller, who must then refuse the call.
//
// FileSink is safe for concurrent use. The file is locked (flock) while
// open, so a second FileSink cannot fork the chain.
type FileSink struct {
	redactor *Redactor

	mu     sync.RWMutex // guards closed and sending on reqs
	closed bool
	reqs   chan *request

	w        *writer
	finished chan struct{} // closed when the writer goroutine has exited
	closeErr error         // set before finished is closed
}

// OpenFile opens (creating it and its parent directories, mode 0600/0700)
// the log at path and continues its hash chain after the last line. It
// refuses a file whose last line is not a valid chain line — corrupt,
// edited, written by Tollgate itself (no chain), or cut short by a crash —
// because appending would fork or hide the chain; the error says what to
// do. Close the sink when done.
func OpenFile(path string, opts ...Option) (*FileSink, error) {
	cfg := fileConfig{redactor: DefaultRedactor, fsync: FsyncBatch}
	for _, o := range opts {
		o.applyFile(&cfg)
	}
	if path == "" {
		return nil, errors.New("audit: log path must not be empty")
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
		return nil, fmt.Errorf("audit: %s is already open in another FileSink or process (%v); two writers would fork the hash chain", path, err)
	}
	size, head, err := resume(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	if created && cfg.fsync.mode != fsyncNever {
		// Make the new file's directory entry durable too.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: sync log directory: %w", err)
		}
	}
	return startFileSink(newWriter(f, size, head, cfg.fsync), cfg.redactor), nil
}

// startFileSink starts the writer goroutine of a sink writing through w.
func startFileSink(w *writer, r *Redactor) *FileSink {
	s := &FileSink{
		redactor: r,
		reqs:     make(chan *request, maxBatch),
		w:        w,
		finished: make(chan struct{}),
	}
	go s.run()
	return s
}

// Emit redacts e, writes it as the next line of the chain and returns when
// the line is written (and, under FsyncBatch, synced). An error means the
// event is not in the log.
//
// Emit does not give up when ctx is done: every exit of a call, including
// cancellation, must be audited, so an event handed to Emit is always
// written or failed.
func (s *FileSink) Emit(_ context.Context, e *Event) error {
	if e == nil {
		return errors.New("audit: nil event")
	}
	r := requests.Get().(*request)
	r.line = s.redactor.Event(e).AppendJSON(r.line[:0])
	if len(r.line)+chainOverhead > MaxLineSize {
		requests.Put(r)
		return fmt.Errorf("audit: event of %d bytes is larger than MaxLineSize (%d)", len(r.line), MaxLineSize)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		requests.Put(r)
		return ErrClosed
	}
	s.reqs <- r
	s.mu.RUnlock()
	err := <-r.done
	if cap(r.line) <= maxPooledLine {
		requests.Put(r)
	}
	return err
}

// Head returns the seq and hash of the last line in the log (0 and
// GenesisHash when it is empty). A hash chain shows edits but not lines cut
// from the end; recording Head elsewhere from time to time closes that gap.
func (s *FileSink) Head() (seq uint64, hash string) {
	return s.w.head()
}

// Close writes the events already queued, syncs and closes the file. Emit
// after Close returns ErrClosed.
func (s *FileSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	<-s.finished
	return s.closeErr
}

// run is the writer goroutine: it batches queued requests into one write.
func (s *FileSink) run() {
	defer close(s.finished)
	tick, stop := s.w.ticker()
	defer stop()
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				s.closeErr = s.w.close()
				return
			}
			batch = s.collect(append(batch[:0], r))
			err := s.w.write(batch)
			for _, r := range batch {
				r.done <- err
			}
			clear(batch)
		case <-tick:
			s.w.syncIfDirty()
		}
	}
}

// collect adds the requests already queued, up to maxBatch lines or
// maxBatchBytes, without waiting for more.
func (s *FileSink) collect(batch []*request) []*request {
	size := len(batch[0].line)
	for len(batch) < maxBatch && size < maxBatchBytes {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				return batch // closed: run sees it on its next receive
			}
			batch = append(batch, r)
			size += len(r.line)
		default:
			return batch
		}
	}
	return batch
}

// request is one queued line and the channel its writer result comes back on.
type request struct {
	line []byte // the event JSON, without chain keys
	done chan error
}

var requests = sync.Pool{New: func() any { return &request{done: make(chan error, 1)} }}

const (
	maxBatch      = 256     // lines per write
	maxBatchBytes = 1 << 20 // bytes per write, unless one line is larger
	maxPooledLine = 64 << 10
	// chainOverhead is the most the chain keys and newline add to a line.
	chainOverhead = len(`, "seq": 18446744073709551615, "prev_hash": ""`) + 64 + len(hashKey) + 64 + len(`"}`) + 1
)
