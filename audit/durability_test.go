package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tickSink is a FileSink on a fakeFile whose background ticks the test
// sends itself.
func tickSink(d Durability, t ticks) (*FileSink, *fakeFile) {
	f := &fakeFile{}
	return startFileSink(newWriter(f, 0, link{hash: GenesisHash}, d), defaultFileConfig(), t), f
}

func TestDurabilityOSWritesBeforeReturningAndSyncsInTheBackground(t *testing.T) {
	tick := make(chan time.Time)
	s, f := tickSink(DurabilityOS, ticks{fsync: tick})
	tick <- time.Time{} // nothing written: no fsync
	for i := range 3 {
		if err := s.Emit(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(f.bytes(), []byte("\n")); n != i+1 {
			t.Fatalf("after Emit %d the file has %d lines: an acknowledged record must be written", i, n)
		}
	}
	if f.syncCount() != 0 {
		t.Errorf("DurabilityOS synced %d times before its tick", f.syncCount())
	}
	tick <- time.Time{}
	tick <- time.Time{} // received only once the first tick is handled
	if f.syncCount() != 1 {
		t.Errorf("%d syncs, want 1 (one tick after writes)", f.syncCount())
	}
	if err := s.Close(); err != nil || f.syncCount() != 1 {
		t.Errorf("Close = %v and synced a clean file (%d syncs)", err, f.syncCount())
	}
}

func TestDurabilityOSFailedBackgroundFsyncReachesNextEmit(t *testing.T) {
	tick := make(chan time.Time)
	s, f := tickSink(DurabilityOS, ticks{fsync: tick})
	f.set(func(f *fakeFile) { f.syncErr = syscall.EIO })
	if err := s.Emit(ctx, testEvent(1)); err != nil {
		t.Fatal(err)
	}
	tick <- time.Time{}
	tick <- time.Time{}
	if err := s.Emit(ctx, testEvent(2)); !errors.Is(err, syscall.EIO) {
		t.Errorf("Emit after a failed background fsync = %v", err)
	}
	s.Close()
}

func TestDurabilitySyncFsyncsBeforeReturning(t *testing.T) {
	s, f := fakeSink(DurabilitySync)
	for i := range 3 {
		if err := s.Emit(ctx, testEvent(i)); err != nil || f.syncCount() != i+1 {
			t.Fatalf("Emit %d = %v after %d syncs", i, err, f.syncCount())
		}
	}
	s.Close()
}

func TestDurabilityBufferedFlushesOnTickSizeAndClose(t *testing.T) {
	tick := make(chan time.Time)
	s, f := tickSink(DurabilityBuffered, ticks{flush: tick})
	for i := range 3 {
		if err := s.Emit(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.bytes()) != 0 {
		t.Fatal("DurabilityBuffered wrote before its flush")
	}
	if seq, _ := s.Head(); seq != 0 {
		t.Errorf("Head = %d before the flush, want 0: it names the last line in the file", seq)
	}
	tick <- time.Time{}
	tick <- time.Time{}
	if n := bytes.Count(f.bytes(), []byte("\n")); n != 3 {
		t.Fatalf("after a flush tick the file has %d lines, want 3", n)
	}
	if seq, _ := s.Head(); seq != 3 {
		t.Errorf("Head = %d after the flush, want 3", seq)
	}

	// 1 MiB waiting is written without waiting for the tick.
	big := testEvent(9)
	big.ResultSummary = strings.Repeat("x", DefaultMaxValueSize/2)
	for len(f.bytes()) < maxBatchBytes {
		if err := s.Emit(ctx, big); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Emit(ctx, testEvent(10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := Verify(bytes.NewReader(f.bytes())); err != nil || !bytes.Contains(f.bytes(), []byte(`"corr-10"`)) {
		t.Errorf("after Close: Verify = %d, %v; the last event must be flushed", n, err)
	}
	if f.syncCount() != 1 {
		t.Errorf("Close synced %d times, want 1", f.syncCount())
	}
}

// A flush that fails loses records already acknowledged: the sink breaks,
// and the next Emit and Close say so.
func TestDurabilityBufferedFailedFlushBreaksSink(t *testing.T) {
	tick := make(chan time.Time)
	s, f := tickSink(DurabilityBuffered, ticks{flush: tick})
	if err := s.Emit(ctx, testEvent(1)); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeFile) { f.writeErr = syscall.ENOSPC })
	tick <- time.Time{}
	tick <- time.Time{}
	err := s.Emit(ctx, testEvent(2))
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "up to seq 1 are lost") {
		t.Errorf("Emit after a failed flush = %v", err)
	}
	if err := s.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close after a failed flush = %v", err)
	}
}

func TestDurabilityNamesAndIntervals(t *testing.T) {
	if (Durability{}) != DurabilityOS {
		t.Error("the zero Durability must be DurabilityOS, the default")
	}
	if defaultFileConfig().durability != DurabilityOS {
		t.Error("OpenFile's default must be DurabilityOS")
	}
	for _, c := range []struct {
		d        Durability
		name     string
		interval time.Duration
	}{
		{DurabilityOS, "os", DefaultSyncInterval},
		{DurabilityOS.Every(time.Second), "os", time.Second},
		{DurabilityOS.Every(0), "os", 0},
		{DurabilitySync, "sync", 0},
		{DurabilitySync.Every(time.Second), "sync", 0},
		{DurabilityBuffered, "buffered", DefaultFlushInterval},
		{DurabilityBuffered.Every(-1), "buffered", DefaultFlushInterval},
		{DurabilityBuffered.Every(time.Millisecond), "buffered", time.Millisecond},
	} {
		if c.d.String() != c.name || c.d.interval() != c.interval {
			t.Errorf("%v: name %q interval %v, want %q %v", c.d, c.d.String(), c.d.interval(), c.name, c.interval)
		}
		if p, err := ParseDurability(c.name); err != nil || p.mode != c.d.mode {
			t.Errorf("ParseDurability(%q) = %v, %v", c.name, p, err)
		}
	}
	if _, err := ParseDurability("fsync"); err == nil || !strings.Contains(err.Error(), "want sync, os or buffered") {
		t.Errorf("ParseDurability(fsync) = %v", err)
	}
	// The deprecated names keep their meaning.
	if FsyncBatch != DurabilitySync || FsyncNever.interval() != 0 || FsyncNever.mode != modeOS ||
		FsyncInterval(0) != DurabilitySync || FsyncInterval(time.Second) != DurabilityOS.Every(time.Second) {
		t.Error("deprecated Fsync names changed meaning")
	}
}

// OpenFile in each mode writes a log that verifies, and buffered records
// reach the file on Close.
func TestOpenFileInEachMode(t *testing.T) {
	for _, d := range []Durability{DurabilityOS, DurabilitySync, DurabilityBuffered} {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		s, err := OpenFile(path, WithDurability(d))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := s.Emit(ctx, testEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n, err := VerifyFile(path); n != 5 || err != nil {
			t.Errorf("%v: VerifyFile = %d, %v", d, n, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
	}
}
