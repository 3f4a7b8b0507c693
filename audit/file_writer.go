package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
)

// logFile is what the writer needs from *os.File (a fake in tests).
type logFile interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// writer owns the file and the chain state. write is called by one leader
// at a time; syncIfDirty may run concurrently with it (FsyncInterval).
type writer struct {
	f      logFile
	policy FsyncPolicy
	ckpt   *checkpointer // nil: no checkpoints

	// Leader-only state.
	size int64 // bytes in the file
	seq  uint64
	prev [2 * sha256.Size]byte // hex hash of the last line
	buf  []byte

	dirty atomic.Bool // written but not synced

	mu sync.Mutex
	// broken is set when the file may no longer match the chain state (a
	// partial write that could not be undone, or a failed fsync, after which
	// Linux may have dropped the data). Every later write fails with it.
	broken   error
	headSeq  uint64
	headHash [2 * sha256.Size]byte
}

func newWriter(f logFile, size int64, head link, policy FsyncPolicy) *writer {
	w := &writer{f: f, policy: policy, size: size, seq: head.seq, headSeq: head.seq}
	copy(w.prev[:], head.hash)
	w.headHash = w.prev
	return w
}

// write appends the batch's lines to the chain with one write(2), followed
// by a checkpoint when one is due (or when force is set or a tick request
// is in the batch, and records are unsigned). On a failed write the chain
// state is rolled back (and a partial write cut off) so that the next
// write continues the chain that is in the file.
func (w *writer) write(batch []*request, force bool) error {
	if err := w.failure(); err != nil {
		return err
	}
	seq, prev := w.seq, w.prev
	var ck checkpointer
	if w.ckpt != nil {
		ck = *w.ckpt
	}
	w.buf = w.buf[:0]
	for _, r := range batch {
		if r.tick {
			force = true
			continue
		}
		w.appendLine(r.line)
		if w.ckpt != nil {
			w.ckpt.pending++
		}
	}
	if c := w.ckpt; c != nil {
		if now := c.now(); c.due(now) || force && c.pending > 0 {
			w.appendLine(c.appendLine(nil, w.seq, w.prev[:], now))
			c.pending, c.last = 0, now
		}
	}
	if len(w.buf) == 0 {
		return nil // only ticks, and nothing to sign
	}
	n, err := w.f.Write(w.buf)
	if cap(w.buf) > 2*maxBatchBytes {
		w.buf = nil // do not keep a huge batch's buffer
	}
	if err != nil {
		w.seq, w.prev = seq, prev
		if w.ckpt != nil {
			*w.ckpt = ck
		}
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				return w.fail(fmt.Errorf("audit: write failed (%v) after %d bytes and the partial line could not be removed (%v); reopen the log after repairing its end", err, n, terr))
			}
		}
		return fmt.Errorf("audit: write log: %w", err)
	}
	w.size += int64(n)
	if w.policy.mode == fsyncBatch {
		if err := w.f.Sync(); err != nil {
			return w.fail(fsyncError(err))
		}
	} else {
		w.dirty.Store(true)
	}
	w.mu.Lock()
	w.headSeq, w.headHash = w.seq, w.prev
	w.mu.Unlock()
	return nil
}

// appendLine appends line (a JSON object) to the buffer as the next line
// of the chain: its closing '}' replaced by the seq, prev_hash and hash
// keys.
func (w *writer) appendLine(line []byte) {
	start := len(w.buf)
	w.buf = append(w.buf, line[:len(line)-1]...)
	w.seq++
	w.buf = append(w.buf, `, "seq": `...)
	w.buf = strconv.AppendUint(w.buf, w.seq, 10)
	w.buf = append(w.buf, `, "prev_hash": "`...)
	w.buf = append(w.buf, w.prev[:]...)
	w.buf = append(w.buf, '"')
	sum := sha256.Sum256(w.buf[start:])
	hex.Encode(w.prev[:], sum[:])
	w.buf = append(w.buf, hashKey...)
	w.buf = append(w.buf, w.prev[:]...)
	w.buf = append(w.buf, "\"}\n"...)
}

// fsyncError is final: after a failed fsync the kernel may have dropped the
// unwritten pages while marking them clean, so a retry could report success
// for lost lines.
func fsyncError(err error) error {
	return fmt.Errorf("audit: fsync log: %w; events are refused until the log is reopened", err)
}

func (w *writer) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken == nil {
		w.broken = err
	}
	return w.broken
}

func (w *writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.broken
}

// syncIfDirty is the FsyncInterval tick. It runs beside the leader: the
// fsync covers every write that finished before it started, and a write
// that finishes later sets dirty again.
func (w *writer) syncIfDirty() {
	if w.dirty.Swap(false) && w.failure() == nil {
		if err := w.f.Sync(); err != nil {
			w.fail(fsyncError(err)) // returned by the next write
		}
	}
}

// close syncs what is not yet on disk (under every policy: a clean shutdown
// should lose nothing) and closes the file.
func (w *writer) close() error {
	var err error
	if w.dirty.Load() && w.failure() == nil {
		if serr := w.f.Sync(); serr != nil {
			err = fsyncError(serr)
		}
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audit: close log: %w", cerr)
	}
	return err
}

func (w *writer) head() (uint64, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.headSeq, string(w.headHash[:])
}
