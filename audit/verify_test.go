package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// chainBytes returns a valid log of n test events, built in memory.
func chainBytes(t testing.TB, n int) []byte {
	t.Helper()
	f := &fakeFile{}
	w := newWriter(f, 0, link{hash: GenesisHash}, DurabilityOS)
	for i := 1; i <= n; i++ {
		if err := w.write([]*request{{line: testEvent(i).AppendJSON(nil)}}, 0); err != nil {
			t.Fatal(err)
		}
	}
	return f.bytes()
}

// rehash recomputes a line's own hash after an edit, as a forger would.
func rehash(line string) string {
	body := line[:strings.LastIndex(line, hashKey)]
	sum := sha256.Sum256([]byte(body))
	return body + hashKey + hex.EncodeToString(sum[:]) + "\"}\n"
}

func TestVerifyNamesFirstBadLine(t *testing.T) {
	valid := chainBytes(t, 5)
	lines := strings.SplitAfter(string(valid), "\n")[:5]
	join := func(l ...string) string { return strings.Join(l, "") }
	tollgateLine, _ := os.ReadFile("testdata/strands_minimal.jsonl")

	for _, c := range []struct {
		name     string
		log      string
		line, ok int
		reason   string
	}{
		{"byte edited", strings.Replace(string(valid), "corr-3", "corr-X", 1), 3, 2, "has been changed"},
		{"edited and rehashed", join(lines[0], lines[1], rehash(strings.Replace(lines[2], "corr-3", "corr-X", 1)), lines[3], lines[4]), 4, 3, "prev_hash that does not match the hash of line 3"},
		{"hash edited", join(lines[0], strings.Replace(lines[1], `"hash": "`, `"hash": "0`, 1)[:len(lines[1])-3]+"\"}\n"), 2, 1, "has been changed"},
		{"line deleted", join(lines[0], lines[1], lines[3], lines[4]), 3, 2, "has seq 4, want 3"},
		{"lines swapped", join(lines[0], lines[2], lines[1], lines[3], lines[4]), 2, 1, "has seq 3, want 2"},
		{"line duplicated", join(lines[0], lines[1], lines[1], lines[2]), 3, 2, "has seq 2, want 3"},
		{"first line removed", join(lines[1], lines[2]), 1, 0, "has seq 2, want 1"},
		{"truncated mid-line", string(valid[:len(valid)-30]), 5, 4, "is incomplete"},
		{"final newline cut", string(valid[:len(valid)-1]), 5, 4, "is incomplete"},
		{"blank line", join(lines[0], "\n", lines[1]), 2, 1, "is not valid JSON"},
		{"not JSON", join(lines[0], "{\"seq\": 2,\n"), 2, 1, "is not valid JSON"},
		{"array", "[1, 2]\n", 1, 0, "is not a JSON object"},
		{"tollgate line", string(tollgateLine), 1, 0, "has no hash chain"},
		{"key added", strings.Replace(string(valid), `{"schema_version": "1.0"`, `{"schema_version": "1.0", "schema_version": "1.0"`, 1), 1, 0, "has been changed"},
		{"duplicate key in a broken line", `{"a": 1, "a": 2}` + "\n", 1, 0, "duplicate key"},
		{"chain keys not last", `{"seq": 1, "prev_hash": "` + GenesisHash + `", "hash": "` + GenesisHash + `", "x": 1}` + "\n", 1, 0, "does not end with the keys"},
		{"seq zero", `{"seq": 0, "prev_hash": "` + GenesisHash + `", "hash": "` + GenesisHash + `"}` + "\n", 1, 0, "positive integer"},
		{"seq float", `{"seq": 1.0, "prev_hash": "` + GenesisHash + `", "hash": "` + GenesisHash + `"}` + "\n", 1, 0, "positive integer"},
		{"hash upper-case", `{"seq": 1, "prev_hash": "` + GenesisHash + `", "hash": "` + strings.Repeat("A", 64) + `"}` + "\n", 1, 0, "64 lower-case hex"},
		{"hash key spacing", `{"seq": 1, "prev_hash": "` + GenesisHash + `","hash": "` + GenesisHash + `"}` + "\n", 1, 0, "in exactly this form"},
		{"genesis prev_hash changed", rehash(strings.Replace(lines[0], GenesisHash, strings.Repeat("1", 64), 1)), 1, 0, "not the genesis hash"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := Verify(strings.NewReader(c.log))
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("Verify = %d, %v; want a *ChainError", n, err)
			}
			if ce.Line != c.line || !strings.Contains(ce.Reason, c.reason) || n != c.ok {
				t.Errorf("Verify = %d, %v; want %d good lines, then line %d %q", n, err, c.ok, c.line, c.reason)
			}
			if !strings.HasPrefix(err.Error(), "audit: line ") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

func TestVerifyValid(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		got, err := Verify(bytes.NewReader(chainBytes(t, n)))
		if got != n || err != nil {
			t.Errorf("Verify(%d lines) = %d, %v", n, got, err)
		}
	}
	// Reads in small pieces still see whole lines.
	if got, err := Verify(iotest.OneByteReader(bytes.NewReader(chainBytes(t, 3)))); got != 3 || err != nil {
		t.Errorf("one-byte reader: %d, %v", got, err)
	}
}

func TestVerifyReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(chainBytes(t, 2)), iotest.ErrReader(boom))
	if n, err := Verify(r); n != 2 || !errors.Is(err, boom) {
		t.Errorf("Verify = %d, %v", n, err)
	}
	if _, err := VerifyFile("testdata/no-such-file"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("VerifyFile missing = %v", err)
	}
}

func TestVerifyRefusesOverlongLine(t *testing.T) {
	r := io.LimitReader(repeatReader('a'), MaxLineSize+10)
	var ce *ChainError
	if _, err := Verify(r); !errors.As(err, &ce) || ce.Line != 1 || !strings.Contains(ce.Reason, "longer than") {
		t.Errorf("Verify = %v", err)
	}
}

type repeatReader byte

func (c repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestReadOwnLogRoundTrips(t *testing.T) {
	data := chainBytes(t, 3)
	lines := strings.SplitAfter(string(data), "\n")
	err := Read(bytes.NewReader(data), func(r *Record) error {
		want := testEvent(r.Line)
		want.SchemaVersion = SchemaVersion
		if got, w := string(r.AppendJSON(nil)), string(want.AppendJSON(nil)); got != w {
			t.Errorf("line %d:\n got %s\nwant %s", r.Line, got, w)
		}
		if r.Seq != uint64(r.Line) || !strings.Contains(lines[r.Line-1], r.Hash) || !isHexHash(r.PrevHash) {
			t.Errorf("line %d chain fields: %d %s %s", r.Line, r.Seq, r.PrevHash, r.Hash)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadErrors(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	if err := Read(bytes.NewReader(chainBytes(t, 3)), func(*Record) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Read did not stop on fn's error: %v after %d calls", err, calls)
	}
	for _, c := range []struct{ log, want string }{
		{`{"agent": {"metadata": []}}` + "\n", `line 1: "agent.metadata": want an object or null`},
		{`{"timestamp": "yesterday"}` + "\n", `"timestamp": want an ISO 8601 time`},
		{`{"intent": {"confidence": "high"}}` + "\n", `"intent.confidence": want a number or null`},
		{`{"agent": {"delegated_by": ["a", 1]}}` + "\n", `"agent.delegated_by": want a list of strings`},
		{`{"agent": {"delegated_by": "a"}}` + "\n", `"agent.delegated_by": want a list of strings or null`},
		{`{"outcome": 1}` + "\n", `"outcome": want a string or null`},
		{`{"seq": -1}` + "\n", `"seq": want a non-negative integer`},
		{`{"seq": "1"}` + "\n", `"seq": want a non-negative integer`},
		{"{}\n[]\n", "line 2: want a JSON object"},
		{"{}\n{", "line 2 is incomplete"},
		{"nope\n", "line 1: "},
	} {
		err := Read(strings.NewReader(c.log), func(*Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%q) = %v, want %q", c.log, err, c.want)
		}
	}
	err := Read(strings.NewReader(`{"intent": {"confidence": 0.5}}`+"\n"), func(r *Record) error {
		if r.Intent.Confidence == nil || *r.Intent.Confidence != 0.5 {
			t.Errorf("confidence %v", r.Intent.Confidence)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	// Missing keys and nulls are tolerated; a numeric policy version keeps
	// its Python spelling.
	err = Read(strings.NewReader(`{"decision": {"policy_version": 1.10}, "policy_version": 2, "result_summary": null}`+"\n"), func(r *Record) error {
		if r.Decision.PolicyVersion != "1.1" || r.PolicyVersion != "2" || r.ResultSummary != "" || r.Line != 1 {
			t.Errorf("record %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func FuzzVerify(f *testing.F) {
	valid := chainBytes(f, 3)
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add([]byte(strings.SplitAfter(string(valid), "\n")[1]))
	f.Add([]byte(`{"seq": 1, "prev_hash": "` + GenesisHash + `", "hash": "` + GenesisHash + `"}` + "\n"))
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	if tollgate, err := os.ReadFile("testdata/mcp_minimal.jsonl"); err == nil {
		f.Add(tollgate)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Verify(bytes.NewReader(data))
		var ce *ChainError
		switch {
		case err == nil:
			if n != bytes.Count(data, []byte("\n")) || (len(data) > 0 && data[len(data)-1] != '\n') {
				t.Fatalf("Verify accepted %d lines of %q", n, data)
			}
		case errors.As(err, &ce):
			if ce.Line != n+1 {
				t.Fatalf("ChainError at line %d after %d good lines", ce.Line, n)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		// Read must not panic on the same input either.
		_ = Read(bytes.NewReader(data), func(*Record) error { return nil })
	})
}
