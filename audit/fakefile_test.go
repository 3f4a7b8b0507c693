package audit

import (
	"bytes"
	"errors"
	"sync"
)

// fakeFile is an in-memory logFile whose next operations can be made to fail.
type fakeFile struct {
	mu          sync.Mutex
	data        bytes.Buffer
	writeErr    error // next Write fails after writing failAfter bytes
	failAfter   int
	truncateErr error
	syncErr     error
	syncs       int
	closed      bool
}

func (f *fakeFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.writeErr; err != nil {
		f.writeErr = nil
		n := min(f.failAfter, len(p))
		f.data.Write(p[:n])
		return n, err
	}
	return f.data.Write(p)
}

func (f *fakeFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	return f.syncErr
}

func (f *fakeFile) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.truncateErr != nil {
		return f.truncateErr
	}
	f.data.Truncate(int(size))
	return nil
}

func (f *fakeFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("already closed")
	}
	f.closed = true
	return nil
}

func (f *fakeFile) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.data.Bytes())
}

func (f *fakeFile) set(fn func(*fakeFile)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeFile) syncCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncs
}

// fakeSink is a FileSink writing to a fakeFile.
func fakeSink(policy Durability) (*FileSink, *fakeFile) {
	f := &fakeFile{}
	return startFileSink(newWriter(f, 0, link{hash: GenesisHash}, policy), defaultFileConfig(), ticks{}), f
}
