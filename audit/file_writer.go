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
// at a time; syncIfDirty may run concurrently with it (the background
// fsync of DurabilityOS).
type writer struct {
	f    logFile
	mode durabilityMode
	ckpt *checkpointer // nil: no checkpoints

	// Leader-only state.
	size int64 // bytes in the file
	seq  uint64
	prev [2 * sha256.Size]byte // hex hash of the last line
	buf  []byte                // lines not yet in the file (DurabilityBuffered keeps them between writes)

	dirty atomic.Bool // written but not synced

	mu sync.Mutex
	// broken is set when the file may no longer match the chain state (a
	// partial write that could not be undone, a failed fsync, after which
	// Linux may have dropped the data, or a failed flush of acknowledged
	// records). Every later write fails with it.
	broken   error
	headSeq  uint64
	headHash [2 * sha256.Size]byte
}

// Tick flags of a request without a line, and of writer.write.
const (
	tickCheckpoint uint8 = 1 << iota // sign the unsigned records now
	tickFlush                        // write what is buffered now
)

func newWriter(f logFile, size int64, head link, d Durability) *writer {
	w := &writer{f: f, mode: d.mode, size: size, seq: head.seq, headSeq: head.seq}
	copy(w.prev[:], head.hash)
	w.headHash = w.prev
	return w
}

// write appends the batch's lines to the chain, followed by a checkpoint
// when one is due (or asked for by tick or a tick request in the batch, and
// records are unsigned), and writes them with one write(2) — under
// DurabilityBuffered only when a flush is asked for or 1 MiB is waiting.
// On a failed write the chain state is rolled back (and a partial write
// cut off) so that the next write continues the chain that is in the file;
// a failed flush of buffered records, already acknowledged, breaks the
// writer instead.
func (w *writer) write(batch []*request, tick uint8) error {
	if err := w.failure(); err != nil {
		return err
	}
	seq, prev := w.seq, w.prev
	var ck checkpointer
	if w.ckpt != nil {
		ck = *w.ckpt
	}
	for _, r := range batch {
		if r.tick != 0 {
			tick |= r.tick
			continue
		}
		w.appendLine(r.line)
		if w.ckpt != nil {
			w.ckpt.pending++
		}
	}
	if c := w.ckpt; c != nil {
		if now := c.now(); c.due(now) || tick&tickCheckpoint != 0 && c.pending > 0 {
			w.appendLine(c.appendLine(nil, w.seq, w.prev[:], now))
			c.pending, c.last = 0, now
		}
	}
	if len(w.buf) == 0 || w.mode == modeBuffered && tick&tickFlush == 0 && len(w.buf) < maxBatchBytes {
		return nil
	}
	err := w.output()
	if err == nil {
		w.mu.Lock()
		w.headSeq, w.headHash = w.seq, w.prev
		w.mu.Unlock()
		return nil
	}
	if w.mode == modeBuffered {
		return w.fail(fmt.Errorf("%w; buffered events up to seq %d are lost, and events are refused until the log is reopened", err, w.seq))
	}
	w.seq, w.prev = seq, prev
	if w.ckpt != nil {
		*w.ckpt = ck
	}
	return err
}

// output writes the buffer with one write(2) and, under DurabilitySync,
// fsyncs. A partial write is cut off; if that fails, the writer breaks.
func (w *writer) output() error {
	n, err := w.f.Write(w.buf)
	w.buf = w.buf[:0]
	if cap(w.buf) > 2*maxBatchBytes {
		w.buf = nil // do not keep a huge batch's buffer
	}
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				return w.fail(fmt.Errorf("audit: write failed (%v) after %d bytes and the partial line could not be removed (%v); reopen the log after repairing its end", err, n, terr))
			}
		}
		return fmt.Errorf("audit: write log: %w", err)
	}
	w.size += int64(n)
	if w.mode != modeSync {
		w.dirty.Store(true)
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fsyncError(err))
	}
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

// syncIfDirty is the background fsync of DurabilityOS. It runs beside the leader: the
// fsync covers every write that finished before it started, and a write
// that finishes later sets dirty again.
func (w *writer) syncIfDirty() {
	if w.dirty.Swap(false) && w.failure() == nil {
		if err := w.f.Sync(); err != nil {
			w.fail(fsyncError(err)) // returned by the next write
		}
	}
}

// close syncs what is not yet on disk (in every mode: a clean shutdown
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
