package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
)

var ctx = context.Background()

// writeLog writes n test events to a new log and returns its path.
func writeLog(t *testing.T, n int, opts ...Option) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := OpenFile(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := s.Emit(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(data), "\n")[:bytes.Count(data, []byte("\n"))]
}

func TestFileSinkLineFormatAndChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dirs")
	path := filepath.Join(dir, "audit.jsonl")
	s, err := OpenFile(path, WithDurability(DurabilitySync))
	if err != nil {
		t.Fatal(err)
	}
	if seq, hash := s.Head(); seq != 0 || hash != GenesisHash {
		t.Errorf("Head of a new log = %d, %s", seq, hash)
	}
	for i := 1; i <= 3; i++ {
		if err := s.Emit(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	headSeq, headHash := s.Head()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", dst.Mode().Perm())
	}

	lines := readLines(t, path)
	prev := GenesisHash
	for i, line := range lines {
		body := string(testEvent(i + 1).AppendJSON(nil))
		prefix := strings.TrimSuffix(body, "}") + fmt.Sprintf(`, "seq": %d, "prev_hash": "%s"`, i+1, prev)
		sum := sha256.Sum256([]byte(prefix))
		hash := hex.EncodeToString(sum[:])
		if want := prefix + `, "hash": "` + hash + "\"}\n"; line != want {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, line, want)
		}
		prev = hash
	}
	if headSeq != 3 || headHash != prev {
		t.Errorf("Head = %d, %s; want 3, %s", headSeq, headHash, prev)
	}
	if n, err := VerifyFile(path); n != 3 || err != nil {
		t.Errorf("VerifyFile = %d, %v", n, err)
	}
}

func TestFileSinkRedactsBeforeWriting(t *testing.T) {
	e := testEvent(1)
	e.Agent.Metadata = tollgate.Params{{Key: "_signature", Value: "sig-value"}, {Key: "env", Value: "prod"}}
	e.ToolRequest.Params = tollgate.Params{{Key: "body", Value: tollgate.Params{{Key: "api_key", Value: "k-value"}}}, {Key: "path", Value: "/x"}}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Emit(ctx, e); err != nil {
		t.Fatal(err)
	}
	s.Close()
	line := readLines(t, path)[0]
	for _, leak := range []string{"sig-value", "_signature", "k-value"} {
		if strings.Contains(line, leak) {
			t.Errorf("%s written: %s", leak, line)
		}
	}
	if !strings.Contains(line, `"params": {"body": {"api_key": "[REDACTED]"}, "path": "/x"}`) ||
		!strings.Contains(line, `"metadata": {"env": "prod"}`) {
		t.Errorf("line: %s", line)
	}
	if v, _ := e.ToolRequest.Params[0].Value.(tollgate.Params).Get("api_key"); v != "k-value" {
		t.Error("caller's params changed")
	}

	// WithRedactor(nil) means the default rules.
	path0 := filepath.Join(t.TempDir(), "audit.jsonl")
	s0, err := OpenFile(path0, WithRedactor(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := s0.Emit(ctx, e); err != nil {
		t.Fatal(err)
	}
	s0.Close()
	if strings.Contains(readLines(t, path0)[0], "k-value") {
		t.Error("WithRedactor(nil) turned redaction off")
	}

	// WithRedactor replaces the default.
	path2 := filepath.Join(t.TempDir(), "audit.jsonl")
	s2, err := OpenFile(path2, WithRedactor(NewRedactor("=path")))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Emit(ctx, e); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if line := readLines(t, path2)[0]; !strings.Contains(line, `"params": {"body": {"api_key": "k-value"}, "path": "[REDACTED]"}`) {
		t.Errorf("custom redactor not used: %s", line)
	}
}

func TestFileSinkReopenContinuesChain(t *testing.T) {
	path := writeLog(t, 2)
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if seq, _ := s.Head(); seq != 2 {
		t.Errorf("Head after reopen = %d, want 2", seq)
	}
	for i := 3; i <= 4; i++ {
		if err := s.Emit(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if n, err := VerifyFile(path); n != 4 || err != nil {
		t.Errorf("VerifyFile = %d, %v", n, err)
	}
	// Lines longer than the first chunk read from the end.
	long := testEvent(5)
	long.ResultSummary = strings.Repeat("r", 100<<10)
	s, err = OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Emit(ctx, long)
	s.Emit(ctx, long)
	s.Close()
	if s, err = OpenFile(path); err != nil {
		t.Fatalf("reopen after long lines: %v", err)
	}
	s.Close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"torn": "` + strings.Repeat("t", 100<<10))
	f.Close()
	if _, err := OpenFile(path); err == nil || !strings.Contains(err.Error(), "incomplete line") {
		t.Errorf("long torn line: %v", err)
	}

	// Reopening a one-line log works too.
	one := writeLog(t, 1)
	s, err = OpenFile(one)
	if err != nil {
		t.Fatal(err)
	}
	s.Emit(ctx, testEvent(2))
	s.Close()
	if n, err := VerifyFile(one); n != 2 || err != nil {
		t.Errorf("VerifyFile = %d, %v", n, err)
	}
}

func TestOpenFileRefusesBrokenTail(t *testing.T) {
	tollgateLog, err := os.ReadFile("testdata/mcp_minimal.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		damage func(lines []string) string
		want   string
	}{
		{"torn last line", func(l []string) string { return strings.Join(l, "") + l[2][:40] }, "incomplete line (bytes "},
		{"missing final newline", func(l []string) string { return strings.TrimSuffix(strings.Join(l, ""), "\n") }, "incomplete line"},
		{"edited last line", func(l []string) string { return strings.Join(l[:2], "") + strings.Replace(l[2], "corr-3", "corr-9", 1) }, "has been changed"},
		{"middle line deleted", func(l []string) string { return l[0] + l[2] }, "does not link"},
		{"lines swapped", func(l []string) string { return l[0] + l[2] + l[1] }, "does not link"},
		{"only line is not the first", func(l []string) string { return l[2] }, "does not start a chain"},
		{"tollgate log", func([]string) string { return string(tollgateLog) }, "has no hash chain"},
		{"garbage", func(l []string) string { return strings.Join(l, "") + "hello\n" }, "is not valid JSON"},
		{"edited line before last", func(l []string) string {
			return l[0] + strings.Replace(l[1], "corr-2", "corr-8", 1) + l[2]
		}, "follows a line that has been changed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeLog(t, 3)
			if err := os.WriteFile(path, []byte(c.damage(readLines(t, path))), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := OpenFile(path)
			if err == nil {
				s.Close()
				t.Fatal("OpenFile accepted a damaged log")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "refusing to append to "+path) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestOpenFileLocksTheLog(t *testing.T) {
	path := writeLog(t, 1)
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := OpenFile(path); err == nil {
		s2.Close()
		t.Fatal("a second FileSink opened the same log")
	} else if !strings.Contains(err.Error(), "already open") {
		t.Errorf("error: %v", err)
	}
	s.Close()
	s, err = OpenFile(path)
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	s.Close()
}

func TestOpenFileErrors(t *testing.T) {
	if _, err := OpenFile(""); err == nil {
		t.Error("empty path accepted")
	}
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o600)
	if _, err := OpenFile(filepath.Join(notDir, "audit.jsonl")); err == nil || !strings.Contains(err.Error(), "create log directory") {
		t.Errorf("parent is a file: %v", err)
	}
	if _, err := OpenFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "open log") {
		t.Errorf("path is a directory: %v", err)
	}
}

func TestFileSinkConcurrentEmitKeepsChain(t *testing.T) {
	for _, policy := range []struct {
		name string
		p    Durability
	}{{"os", DurabilityOS}, {"os-nosync", DurabilityOS.Every(0)}, {"sync", DurabilitySync}, {"buffered", DurabilityBuffered}, {"buffered-1ms", DurabilityBuffered.Every(time.Millisecond)}} {
		t.Run(policy.name, func(t *testing.T) {
			const goroutines, each = 50, 20
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			s, err := OpenFile(path, WithDurability(policy.p))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						if err := s.Emit(ctx, testEvent(g*each+i)); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if n, err := VerifyFile(path); n != goroutines*each || err != nil {
				t.Fatalf("VerifyFile = %d, %v", n, err)
			}
			seen := map[string]bool{}
			f, _ := os.Open(path)
			defer f.Close()
			err = Read(f, func(r *Record) error {
				if r.Seq != uint64(r.Line) {
					t.Errorf("line %d has seq %d", r.Line, r.Seq)
				}
				seen[r.CorrelationID] = true
				return nil
			})
			if err != nil || len(seen) != goroutines*each {
				t.Errorf("Read: %v, %d distinct events", err, len(seen))
			}
		})
	}
}

// Close waits for the lines already handed to Emit; every Emit either
// succeeds, and its line is in the log, or returns ErrClosed.
func TestFileSinkCloseDuringEmit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := OpenFile(path, WithDurability(DurabilityOS))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	written := map[string]bool{}
	start := make(chan struct{})
	for g := range 20 {
		wg.Go(func() {
			<-start
			for i := range 50 {
				e := testEvent(g*50 + i)
				switch err := s.Emit(ctx, e); {
				case err == nil:
					mu.Lock()
					written[e.CorrelationID] = true
					mu.Unlock()
				case !errors.Is(err, ErrClosed):
					t.Error(err)
				}
			}
		})
	}
	close(start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	f, _ := os.Open(path)
	defer f.Close()
	n := 0
	err = Read(f, func(r *Record) error {
		n++
		if !written[r.CorrelationID] {
			t.Errorf("line %d (%s) written but its Emit failed", r.Line, r.CorrelationID)
		}
		return nil
	})
	if err != nil || n != len(written) {
		t.Errorf("Read = %v; %d lines for %d successful Emits", err, n, len(written))
	}
	if _, err := VerifyFile(path); err != nil {
		t.Error(err)
	}
}

func TestFileSinkEmitAfterClose(t *testing.T) {
	s, err := OpenFile(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit(ctx, testEvent(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Emit after Close = %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	if err := s.Emit(ctx, nil); err == nil {
		t.Error("nil event accepted")
	}
}

// An event too big for a line is bounded, not refused: a refusal of a huge
// call must leave a record too.
func TestFileSinkBoundsOversizedEvent(t *testing.T) {
	s, f := fakeSink(DurabilityOS)
	defer s.Close()
	e := testEvent(1)
	e.ResultSummary = strings.Repeat("x", MaxLineSize)
	if err := s.Emit(ctx, e); err != nil {
		t.Fatalf("Emit = %v", err)
	}
	if n, err := Verify(bytes.NewReader(f.bytes())); n != 1 || err != nil || len(f.bytes()) > 2*DefaultMaxValueSize {
		t.Errorf("Verify = %d, %v; line of %d bytes", n, err, len(f.bytes()))
	}
}

// A write error reaches the caller of Emit; the chain state is rolled back so
// the next line continues the chain that is actually in the file.
func TestFileSinkWriteErrorIsReturnedAndRolledBack(t *testing.T) {
	for _, failAfter := range []int{0, 25} {
		t.Run(fmt.Sprint("after ", failAfter, " bytes"), func(t *testing.T) {
			s, f := fakeSink(DurabilityOS)
			defer s.Close()
			if err := s.Emit(ctx, testEvent(1)); err != nil {
				t.Fatal(err)
			}
			f.set(func(f *fakeFile) { f.writeErr, f.failAfter = syscall.ENOSPC, failAfter })
			if err := s.Emit(ctx, testEvent(2)); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Emit = %v, want ENOSPC", err)
			}
			if err := s.Emit(ctx, testEvent(3)); err != nil {
				t.Fatalf("Emit after a rolled-back failure: %v", err)
			}
			if n, err := Verify(bytes.NewReader(f.bytes())); n != 2 || err != nil {
				t.Errorf("Verify = %d, %v", n, err)
			}
			if seq, _ := s.Head(); seq != 2 {
				t.Errorf("Head = %d", seq)
			}
		})
	}
}

func TestFileSinkUnrepairableWriteBreaksSink(t *testing.T) {
	s, f := fakeSink(DurabilityOS)
	defer s.Close()
	f.set(func(f *fakeFile) {
		f.writeErr, f.failAfter, f.truncateErr = syscall.EIO, 10, errors.New("truncate failed")
	})
	err1 := s.Emit(ctx, testEvent(1))
	err2 := s.Emit(ctx, testEvent(2))
	if err1 == nil || err2 == nil || err1 != err2 || !strings.Contains(err1.Error(), "could not be removed") {
		t.Errorf("Emit errors: %v / %v; want the same sticky error", err1, err2)
	}
}

func TestFileSinkFsyncFailureBreaksSink(t *testing.T) {
	s, f := fakeSink(DurabilitySync)
	if err := s.Emit(ctx, testEvent(1)); err != nil || f.syncCount() != 1 {
		t.Fatalf("Emit = %v, %d syncs", err, f.syncCount())
	}
	f.set(func(f *fakeFile) { f.syncErr = syscall.EIO })
	if err := s.Emit(ctx, testEvent(2)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Emit = %v", err)
	}
	f.set(func(f *fakeFile) { f.syncErr = nil })
	if err := s.Emit(ctx, testEvent(3)); !errors.Is(err, syscall.EIO) {
		t.Errorf("Emit after a failed fsync = %v, want the fsync error again", err)
	}
	if err := s.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v, want the fsync error again", err)
	}
}

// A real write error from the kernel: /dev/full fails every write with
// ENOSPC and cannot be truncated, so the sink stays broken.
func TestFileSinkDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	s, err := OpenFile("/dev/full", WithDurability(DurabilityOS))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Emit(ctx, testEvent(1)); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Emit = %v, want ENOSPC", err)
	}
}
