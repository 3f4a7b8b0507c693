package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// chainedLog writes n events through the audit package's file sink.
func chainedLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		err := sink.Emit(context.Background(), &audit.Event{
			Timestamp:     time.Date(2026, 2, 5, 0, 0, i, 0, time.UTC),
			CorrelationID: "c" + strings.Repeat("x", i),
			Agent:         tollgate.Agent{ID: "a", Version: "1", Owner: "o"},
			ToolRequest:   tollgate.ToolRequest{Tool: "api:fetch_data", Effect: tollgate.EffectRead},
			Decision:      tollgate.Decision{Type: tollgate.Allow, Reason: "ok"},
			Outcome:       tollgate.OutcomeExecuted,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditVerify(t *testing.T) {
	path := chainedLog(t, 3)
	r := cli(t, nil, "audit", "verify", path).want(t, 0)
	if r.stdout != "OK: "+path+": 3 line(s), hash chain intact\n" {
		t.Fatalf("stdout %q", r.stdout)
	}

	data := readFileT(t, path)
	lines := bytes.SplitAfter(data, []byte("\n"))

	// Edit one byte of line 2.
	edited := bytes.Clone(data)
	i := len(lines[0]) + bytes.Index(lines[1], []byte(`"ok"`)) + 1
	edited[i] = 'O'
	cli(t, nil, "audit", "verify", mkfile(t, path, edited)).want(t, 1).oneLineErr(t, path+":2: has been changed")

	// Delete line 2; swap lines 2 and 3.
	cli(t, nil, "audit", "verify", mkfile(t, path, bytes.Join([][]byte{lines[0], lines[2]}, nil))).want(t, 1).oneLineErr(t, path+":2:")
	cli(t, nil, "audit", "verify", mkfile(t, path, bytes.Join([][]byte{lines[0], lines[2], lines[1]}, nil))).want(t, 1).oneLineErr(t, path+":2:")

	// Damage line 1 but keep it a chained record: tampering, not a foreign file.
	first := bytes.Replace(lines[0], []byte(`"ok"`), []byte(`"OK"`), 1)
	cli(t, nil, "audit", "verify", mkfile(t, path, bytes.Join([][]byte{first, lines[1], lines[2]}, nil))).want(t, 1).oneLineErr(t, path+":1: has been changed")
}

// Tollgate's own logs have no chain: that is not an audit log this command
// can vouch for (exit 2), not a tampered one.
func TestAuditVerifyTollgateLog(t *testing.T) {
	cli(t, nil, "audit", "verify", "testdata/audit.jsonl").want(t, 2).oneLineErr(t, "testdata/audit.jsonl: not a hash-chained audit log (line 1 has no hash chain)")
	text := mkfile(t, filepath.Join(t.TempDir(), "notes.txt"), []byte("hello\nworld\n"))
	cli(t, nil, "audit", "verify", text).want(t, 2).oneLineErr(t, "not a hash-chained audit log (line 1 is not valid JSON")
}

func TestIsText(t *testing.T) {
	for _, tt := range []struct {
		b        string
		complete bool
		want     bool
	}{
		{"abc", true, true},
		{"a\x00b", true, false},
		{"\xff", true, false},
		{"é", true, true},
		{"a\xc3", true, false}, // a cut rune at the real end is invalid
		{"a\xc3", false, true}, // but may just be cut by the peek
		{"a\xe2\x82", false, true},
		{"\xff\xc3", false, false},
	} {
		if got := isText([]byte(tt.b), tt.complete); got != tt.want {
			t.Errorf("isText(%q, %v) = %v", tt.b, tt.complete, got)
		}
	}
}

// signedLog writes n events with checkpoints signed by a new keygen key at
// dir/sign.key, then closes the log (one more checkpoint).
func signedLog(t *testing.T, dir string, n int) string {
	t.Helper()
	cli(t, nil, "keygen", "--out", filepath.Join(dir, "sign")).want(t, 0)
	key, err := audit.ReadCheckpointKey(filepath.Join(dir, "sign.key"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.jsonl")
	sink, err := audit.OpenFile(path, audit.WithCheckpointKey(key), audit.WithCheckpointEvery(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := &audit.Event{CorrelationID: fmt.Sprintf("c%d", i), Decision: tollgate.Decision{Type: tollgate.Allow, Reason: "ok"}, Outcome: tollgate.OutcomeExecuted}
		if err := sink.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// rechain recomputes prev_hash and hash of lines[from:], as a forger who
// can write the file would after an edit.
func rechain(lines [][]byte, from int) {
	const hashKey = `, "hash": "`
	prev := string(lines[from-1][bytes.LastIndex(lines[from-1], []byte(hashKey))+len(hashKey):][:64])
	for i := from; i < len(lines); i++ {
		l := string(lines[i])
		at := strings.LastIndex(l, `, "prev_hash": "`) + len(`, "prev_hash": "`)
		body := l[:at] + prev + `"`
		sum := sha256.Sum256([]byte(body))
		prev = hex.EncodeToString(sum[:])
		lines[i] = []byte(body + hashKey + prev + "\"}\n")
	}
}

func TestAuditVerifyCheckpoints(t *testing.T) {
	dir := t.TempDir()
	path := signedLog(t, dir, 3) // e e C e C
	pub, jwks := filepath.Join(dir, "sign.pub"), filepath.Join(dir, "sign.jwks.json")

	r := cli(t, nil, "audit", "verify", path, "--pub", pub).want(t, 0)
	if !strings.HasPrefix(r.stdout, "OK: "+path+": 5 line(s), hash chain intact; 2 signed checkpoint(s) verified, the last at line 5 (") ||
		!strings.HasSuffix(r.stdout, "); 0 line(s) after it are covered by the hash chain only\n") {
		t.Errorf("stdout %q", r.stdout)
	}
	cli(t, nil, "audit", "verify", path, "--jwks", jwks).want(t, 0)
	r = cli(t, nil, "audit", "verify", path).want(t, 0)
	if r.stdout != "OK: "+path+": 5 line(s), hash chain intact; 2 checkpoint(s) present, signatures not checked (pass --pub or --jwks)\n" {
		t.Errorf("stdout %q", r.stdout)
	}

	// Edit line 2 and recompute every later hash: the chain alone says
	// intact, the checkpoint does not.
	lines := bytes.SplitAfter(readFileT(t, path), []byte("\n"))
	lines = lines[:len(lines)-1]
	lines[1] = bytes.Replace(lines[1], []byte(`"c1"`), []byte(`"cX"`), 1)
	rechain(lines, 1)
	forged := mkfile(t, filepath.Join(dir, "forged.jsonl"), bytes.Join(lines, nil))
	cli(t, nil, "audit", "verify", forged).want(t, 0)
	cli(t, nil, "audit", "verify", forged, "--pub", pub).want(t, 1).oneLineErr(t, forged+":3: is a checkpoint for line 2 with hash")

	// Cut after the first checkpoint: intact, with one line unsigned.
	orig := bytes.SplitAfter(readFileT(t, path), []byte("\n"))
	cut := mkfile(t, filepath.Join(dir, "cut.jsonl"), bytes.Join(orig[:4], nil))
	r = cli(t, nil, "audit", "verify", cut, "--pub", pub).want(t, 0)
	if !strings.Contains(r.stdout, "the last at line 3") || !strings.Contains(r.stdout, "; 1 line(s) after it") {
		t.Errorf("stdout %q", r.stdout)
	}

	// An unsigned log, or one signed by another key, fails with a key.
	cli(t, nil, "audit", "verify", chainedLog(t, 2), "--pub", pub).want(t, 1).oneLineErr(t, "no signed checkpoint in 2 line(s)")
	other := t.TempDir()
	cli(t, nil, "audit", "verify", signedLog(t, other, 1), "--pub", pub).want(t, 1).oneLineErr(t, ":2: is a checkpoint signed by key")

	// Bad key files are errors (2), not verdicts.
	cli(t, nil, "audit", "verify", path, "--pub", filepath.Join(dir, "sign.key")).want(t, 2)
	cli(t, nil, "audit", "verify", path, "--jwks", pub).want(t, 2)
	cli(t, nil, "audit", "verify", path, "--pub", pub, "--jwks", jwks).want(t, 2)
}
