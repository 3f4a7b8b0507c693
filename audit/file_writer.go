package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// logFile is what the writer needs from *os.File (a fake in tests).
type logFile interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// writer owns the file and the chain state. Only the writer goroutine
// calls its methods, except head.
type writer struct {
	f      logFile
	policy FsyncPolicy
	size   int64 // bytes in the file
	seq    uint64
	prev   [2 * sha256.Size]byte // hex hash of the last line
	dirty  bool                  // written but not synced
	// broken is set when the file may no longer match the chain state (a
	// partial write that could not be undone, or a failed fsync, after which
	// Linux may have dropped the data). Every later write fails with it.
	broken error
	buf    []byte

	headMu   sync.Mutex
	headSeq  uint64
	headHash string
}

func newWriter(f logFile, size int64, head link, policy FsyncPolicy) *writer {
	w := &writer{f: f, policy: policy, size: size, seq: head.seq}
	copy(w.prev[:], head.hash)
	w.headSeq, w.headHash = head.seq, head.hash
	return w
}

// write appends the batch's lines to the chain with one write(2). On a
// failed write the chain state is rolled back (and a partial write cut off)
// so that the next write continues the chain that is in the file.
func (w *writer) write(batch []*request) error {
	if w.broken != nil {
		return w.broken
	}
	seq, prev := w.seq, w.prev
	w.buf = w.buf[:0]
	for _, r := range batch {
		start := len(w.buf)
		w.buf = append(w.buf, r.line[:len(r.line)-1]...) // drop the closing '}'
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
	n, err := w.f.Write(w.buf)
	if cap(w.buf) > maxBatchBytes*2 {
		w.buf = nil // do not keep a huge batch's buffer
	}
	if err != nil {
		w.seq, w.prev = seq, prev
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				w.broken = fmt.Errorf("audit: write failed (%v) after %d bytes and the partial line could not be removed (%v); reopen the log after repairing its end", err, n, terr)
				return w.broken
			}
		}
		return fmt.Errorf("audit: write log: %w", err)
	}
	w.size += int64(n)
	w.dirty = true
	if w.policy.mode == fsyncBatch {
		if err := w.sync(); err != nil {
			return err
		}
	}
	w.headMu.Lock()
	w.headSeq, w.headHash = w.seq, string(w.prev[:])
	w.headMu.Unlock()
	return nil
}

// sync flushes the file. A failed fsync breaks the writer for good: after
// one, the kernel may have dropped the unwritten pages while marking them
// clean, so a retry could report success for lost lines.
func (w *writer) sync() error {
	if err := w.f.Sync(); err != nil {
		w.broken = fmt.Errorf("audit: fsync log: %w; events are refused until the log is reopened", err)
		return w.broken
	}
	w.dirty = false
	return nil
}

// syncIfDirty is the FsyncInterval tick.
func (w *writer) syncIfDirty() {
	if w.dirty && w.broken == nil {
		_ = w.sync() // a failure is kept in w.broken and returned by the next write
	}
}

// ticker returns the FsyncInterval tick channel (nil, never ready, for the
// other policies) and its stop function.
func (w *writer) ticker() (<-chan time.Time, func()) {
	if w.policy.mode != fsyncInterval {
		return nil, func() {}
	}
	t := time.NewTicker(w.policy.every)
	return t.C, t.Stop
}

// close syncs what is not yet on disk (under every policy: a clean shutdown
// should lose nothing) and closes the file.
func (w *writer) close() error {
	var err error
	if w.dirty && w.broken == nil {
		err = w.sync()
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audit: close log: %w", cerr)
	}
	return err
}

func (w *writer) head() (uint64, string) {
	w.headMu.Lock()
	defer w.headMu.Unlock()
	return w.headSeq, w.headHash
}
