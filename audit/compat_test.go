package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

var compatLogs = []struct {
	file  string
	lines int
}{
	{"testdata/security_hardened.jsonl", 34},
	{"testdata/mcp_minimal.jsonl", 6},
	{"testdata/strands_minimal.jsonl", 4},
}

// requestHash is Tollgate's request_hash (spec §12.1), recomputed here to
// check that Read returns every field the hash covers unchanged.
func requestHash(e *Event) string {
	tr := e.ToolRequest
	parts := []string{
		e.Agent.ID, e.Agent.Version, e.Intent.Action, tr.Tool, tr.Action,
		string(tr.Effect), tr.ResourceType,
		string(pycompat.Canonical.AppendJSON(nil, orEmpty(tr.Params))),
		string(pycompat.Canonical.AppendJSON(nil, orEmpty(tr.Metadata))),
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}

func orEmpty(p tollgate.Params) tollgate.Params {
	if p == nil {
		return tollgate.Params{}
	}
	return p
}

func TestReadCompatLogsRecomputeRequestHashes(t *testing.T) {
	total := 0
	for _, c := range compatLogs {
		f, err := os.Open(c.file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = Read(f, func(r *Record) error {
			n++
			if r.Line != n {
				t.Errorf("%s: Record.Line = %d, want %d", c.file, r.Line, n)
			}
			if got := requestHash(&r.Event); got != r.RequestHash {
				t.Errorf("%s:%d: recomputed request_hash %s, logged %s", c.file, r.Line, got, r.RequestHash)
			}
			if r.Timestamp.IsZero() || r.CorrelationID == "" || r.Outcome == "" || r.Decision.Type == "" {
				t.Errorf("%s:%d: missing fields in %+v", c.file, r.Line, r.Event)
			}
			if r.Hash != "" || r.Seq != 0 {
				t.Errorf("%s:%d: Tollgate line has chain fields", c.file, r.Line)
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if n != c.lines {
			t.Errorf("%s: %d records, want %d", c.file, n, c.lines)
		}
		total += n
	}
	if total != 44 {
		t.Errorf("%d records in all, want the 44 of spec §12.1", total)
	}
}

var signatureJSON = regexp.MustCompile(`"_signature": "[0-9a-f]{64}"`)

// Every Tollgate 1.4 line, read and written again, is the same bytes — apart
// from the agent "_signature", which we never write.
func TestAppendJSONReproducesTollgate14Lines(t *testing.T) {
	data, err := os.ReadFile("testdata/security_hardened.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if !signatureJSON.MatchString(sc.Text()) {
			t.Fatalf("fixture line without _signature: the test no longer checks its removal")
		}
		want = append(want, signatureJSON.ReplaceAllString(sc.Text(), ""))
	}
	i := 0
	err = Read(bytes.NewReader(data), func(r *Record) error {
		if got := string(r.AppendJSON(nil)); got != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", r.Line, got, want[i])
		}
		i++
		return nil
	})
	if err != nil || i != len(want) {
		t.Fatalf("Read: %v after %d of %d lines", err, i, len(want))
	}
}

// Through a FileSink that redacts by value, bounds records and signs
// checkpoints, every Tollgate 1.4 record keeps its line byte for byte
// (before the chain keys): checkpoints only add lines, and the value
// redactor finds nothing to hide in Tollgate's own logs.
func TestFileSinkKeepsTollgateLayoutWithCheckpoints(t *testing.T) {
	s, f, _ := ckptSink(t, nil, WithCheckpointEvery(5, 0))
	var want []string
	for _, c := range compatLogs {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		err = Read(bytes.NewReader(data), func(r *Record) error {
			want = append(want, string(r.AppendJSON(nil)))
			return s.Emit(ctx, &r.Event)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(string(f.bytes()), "\n"), "\n") {
		if !isCheckpoint([]byte(l)) {
			got = append(got, l[:strings.LastIndex(l, `, "seq": `)]+"}")
		}
	}
	if len(got) != 44 || len(want) != 44 {
		t.Fatalf("%d lines written, %d read; want 44", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("record %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
	if sum, err := VerifyCheckpoints(bytes.NewReader(f.bytes()), ckptPub); err != nil || sum.Checkpoints != 9 {
		t.Errorf("VerifyCheckpoints = %+v, %v", sum, err)
	}
}
