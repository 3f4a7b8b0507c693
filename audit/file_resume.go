package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// resume reads the end of an existing log and returns its size and the
// chain position to continue from. It checks only the last two lines (their
// hashes and their link), so opening stays fast for large logs; VerifyFile
// checks everything.
func resume(f *os.File, path string) (int64, link, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, link{}, fmt.Errorf("audit: stat log: %w", err)
	}
	size := st.Size()
	if size == 0 {
		return 0, link{hash: GenesisHash}, nil
	}
	last, prev, lastAt, err := readTail(f, size)
	if err != nil {
		return 0, link{}, fmt.Errorf("audit: refusing to append to %s: %w", path, err)
	}
	refuse := func(format string, args ...any) (int64, link, error) {
		return 0, link{}, fmt.Errorf("audit: refusing to append to %s: its last line (at byte %d) %s; appending would fork the hash chain — check the file with audit.VerifyFile and start a new log", path, lastAt, fmt.Sprintf(format, args...))
	}
	l, err := checkLine(last)
	if errors.Is(err, errNoChain) {
		return refuse("has no hash chain (a log written by Tollgate itself?)")
	}
	if err != nil {
		return refuse("%v", err)
	}
	if prev == nil {
		if l.seq != 1 || l.prev != GenesisHash {
			return refuse("is the only line but does not start a chain (seq %d)", l.seq)
		}
		return size, l, nil
	}
	p, err := checkLine(prev)
	if err != nil {
		return refuse("follows a line that %v", err)
	}
	if l.seq != p.seq+1 || l.prev != p.hash {
		return refuse("does not link to the line before it (seq %d after %d)", l.seq, p.seq)
	}
	return size, l, nil
}

// readTail returns the last line and the one before it (nil when the file
// has one line), without newlines, and the offset of the last line. It
// reads backwards in growing chunks. A file that does not end with a
// newline ends with a torn write or was truncated: that is an error, not
// something to repair silently, because the same bytes could hide an
// edited line.
func readTail(f *os.File, size int64) (last, prev []byte, lastAt int64, err error) {
	for chunk := int64(64 << 10); ; chunk *= 2 {
		n := min(size, chunk)
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, size-n); err != nil {
			return nil, nil, 0, fmt.Errorf("read the end of the log: %w", err)
		}
		whole := n == size // buf starts at the beginning of the file
		if buf[n-1] != '\n' {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 && !whole {
				if chunk > 2*MaxLineSize {
					return nil, nil, 0, fmt.Errorf("its last line is longer than MaxLineSize (%d bytes)", MaxLineSize)
				}
				continue
			}
			at := size - n + int64(i) + 1
			return nil, nil, 0, fmt.Errorf("it ends with an incomplete line (bytes %d to %d have no newline), left by a crash during a write or by truncation; inspect it, and if it is a torn write remove it (truncate -s %d FILE) and open the log again", at, size, at)
		}
		j := bytes.LastIndexByte(buf[:n-1], '\n')
		k := -1
		if j >= 0 {
			k = bytes.LastIndexByte(buf[:j], '\n')
		}
		switch {
		case j < 0 && whole:
			return buf[:n-1], nil, 0, nil
		case k >= 0 || whole:
			return buf[j+1 : n-1], buf[k+1 : j], size - n + int64(j) + 1, nil
		case chunk > 4*MaxLineSize:
			return nil, nil, 0, fmt.Errorf("its last lines are longer than MaxLineSize (%d bytes)", MaxLineSize)
		}
	}
}
