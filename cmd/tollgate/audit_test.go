package main

import (
	"bytes"
	"context"
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
	sink, err := audit.OpenFile(path, audit.WithFsync(audit.FsyncNever))
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
