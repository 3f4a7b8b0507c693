package audit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// killChildEnv makes the test binary a child that writes audit records
// until it is killed: "<mode> <path>".
const killChildEnv = "TOLLGATE_AUDIT_KILL_CHILD"

// TestKill9LosesNothingAcknowledged runs a child process that emits events
// from many goroutines and prints each correlation id once its Emit has
// returned, kills it with SIGKILL in the middle of the load, and checks
// that every acknowledged event is in the log and the chain verifies.
// That is the promise of DurabilityOS and DurabilitySync (a power failure,
// which only DurabilitySync survives, cannot be tested this way).
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if spec := os.Getenv(killChildEnv); spec != "" {
		mode, path, _ := strings.Cut(spec, " ")
		killChild(mode, path) // never returns
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, c := range []struct {
		d    Durability
		acks int
	}{{DurabilityOS, 3000}, {DurabilitySync, 300}} {
		t.Run(c.d.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			acked := runAndKill(t, c.d, path, c.acks)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// A write(2) the kill interrupted may leave a torn last line;
			// its records were never acknowledged. Cut it as an operator
			// would (OpenFile refuses it and says how).
			if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
				torn := data[i+1:]
				for id := range acked {
					if bytes.Contains(torn, []byte(`"`+id+`"`)) {
						t.Errorf("acknowledged %s is only in the torn tail", id)
					}
				}
				data = data[:i+1]
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			n, err := Verify(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Verify after kill -9 = %d lines, %v", n, err)
			}
			found := map[string]bool{}
			if err := Read(bytes.NewReader(data), func(r *Record) error { found[r.CorrelationID] = true; return nil }); err != nil {
				t.Fatal(err)
			}
			missing := 0
			for id := range acked {
				if !found[id] {
					missing++
				}
			}
			if missing > 0 || len(acked) < c.acks {
				t.Fatalf("%d of %d acknowledged events missing from %d lines", missing, len(acked), n)
			}
			// The log is usable again: the chain continues.
			s, err := OpenFile(path, WithDurability(c.d))
			if err != nil {
				t.Fatalf("reopen after kill -9: %v", err)
			}
			if err := s.Emit(ctx, testEvent(-1)); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if m, err := VerifyFile(path); m != n+1 || err != nil {
				t.Errorf("VerifyFile after reopening = %d, %v; want %d", m, err, n+1)
			}
			t.Logf("%d acknowledged, %d lines in the log", len(acked), n)
		})
	}
}

// runAndKill starts the child, reads acknowledgements until it has acks
// of them, kills the child and returns every id it acknowledged.
func runAndKill(t *testing.T, d Durability, path string, acks int) map[string]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9LosesNothingAcknowledged$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+d.String()+" "+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked[id] = true
		if len(acked) == acks && !killed {
			// Mid-load: the child's writers are still running. Acks
			// already in the pipe are read below, until EOF.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited after %d acknowledgements: %v", len(acked), err)
	}
	return acked
}

// killChild writes events from 16 goroutines until it is killed, printing
// "ack <correlation id>" after each successful Emit.
func killChild(mode, path string) {
	d, err := ParseDurability(mode)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := OpenFile(path, WithDurability(d))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			line := make([]byte, 0, 64)
			for i := g; ; i += 16 {
				e := testEvent(i)
				if err := s.Emit(ctx, e); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				// One write(2) of a short line to a pipe is atomic.
				line = append(append(line[:0], "ack "...), e.CorrelationID...)
				os.Stdout.Write(append(line, '\n'))
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
