package policytest

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// parseWhole is ParseScenarios without the parallel fast path.
func parseWhole(name string, data []byte, strict bool) ([]Scenario, error) {
	doc, err := yamlx.ParseLimited(name, data, MaxFileSize)
	if err != nil {
		return nil, err
	}
	d := &decoder{doc: doc, strict: strict}
	return d.file()
}

// sameAsWhole checks that the chunked parse, when it takes the file, gives
// exactly what the whole-file parse gives, errors included. It returns
// whether the fast path took the file.
func sameAsWhole(t testing.TB, data []byte, strict bool, chunk int) bool {
	t.Helper()
	fast, ok, fastErr := parseChunked("s.yaml", data, strict, chunk)
	whole, wholeErr := parseWhole("s.yaml", data, strict)
	if !ok {
		return false
	}
	if (fastErr == nil) != (wholeErr == nil) || (fastErr != nil && fastErr.Error() != wholeErr.Error()) {
		t.Fatalf("errors differ:\nfast  %v\nwhole %v\ninput:\n%s", fastErr, wholeErr, data)
	}
	if !reflect.DeepEqual(fast, whole) {
		for i := range min(len(fast), len(whole)) {
			if !reflect.DeepEqual(fast[i], whole[i]) {
				t.Fatalf("scenario %d differs:\nfast  %+v\nwhole %+v", i, fast[i], whole[i])
			}
		}
		t.Fatalf("fast has %d scenarios, whole %d", len(fast), len(whole))
	}
	return true
}

func TestParallelMatchesWhole(t *testing.T) {
	item := func(i int) string {
		return fmt.Sprintf("  - name: \"s%d\"\n    tool_request: {tool: t%d, effect: read}\n    expected: {decision: DENY}\n", i, i)
	}
	items := func(n int, f func(int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
		}
		return b.String()
	}
	tests := []struct {
		name     string
		data     string
		strict   bool
		fastPath bool
	}{
		{"generated", string(genScenarios(300)), false, true},
		{"generated strict", string(genScenarios(300)), true, true},
		{"header comments and keys", "# top\nversion: 1\n\nscenarios:   # the list\n" + items(40, item), false, true},
		{"strict header key is the same error", "version: 1\nscenarios:\n" + items(40, item), true, true},
		{"compact list at column 0", "scenarios:\n" + strings.ReplaceAll(items(40, item), "\n  ", "\n")[2:], false, true},
		{"comments and blank lines between items", "scenarios:\n" + items(40, func(i int) string { return "\n  # item\n" + item(i) }), false, true},
		{"CRLF", strings.ReplaceAll("scenarios:\n"+items(40, item), "\n", "\r\n"), false, true},
		{"block scalars", "scenarios:\n" + items(40, func(i int) string {
			return "  - name: |\n      line\n      - not an item\n    expected: {decision: DENY}\n"
		}), false, true},
		{"decode error late", "scenarios:\n" + items(40, item) + "  - name: bad\n    agent: [x]\n    expected: {decision: DENY}\n" + items(5, item), false, true},
		{"missing expected late", "scenarios:\n" + items(40, item) + "  - name: bad\n" + items(5, item), false, true},
		// Files the fast path must hand back to the whole-file parse:
		{"aliases", "scenarios:\n  - &a {name: x, expected: {decision: DENY}}\n" + items(40, func(int) string { return "  - *a\n" }), false, false},
		{"quoted scalar spanning an item-like line", "scenarios:\n" + items(20, item) + "  - name: \"multi\n  - name: inside\"\n    expected: {decision: DENY}\n" + items(20, item), false, false},
		{"flow list spanning lines", "scenarios:\n" + items(20, item) + "  - {name: x, expected: {decision: DENY}, a: [\n  - b]}\n" + items(20, item), false, false},
		{"key after the list", "scenarios:\n" + items(40, item) + "other: 1\n", false, false},
		{"syntax error late", "scenarios:\n" + items(40, item) + "  - name: [x\n" + items(5, item), false, false},
		{"duplicate scenarios key", "scenarios: []\nscenarios:\n" + items(40, item), false, false},
		{"directive", "%YAML 1.1\n---\nscenarios:\n" + items(40, item), false, false},
		{"flow list", "scenarios: [" + strings.Repeat("{expected: {decision: DENY}}, ", 40) + "]\n", false, false},
		{"one piece", "scenarios:\n" + item(0), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			took := sameAsWhole(t, []byte(tt.data), tt.strict, 256)
			if took != tt.fastPath {
				t.Fatalf("fast path taken = %v, want %v", took, tt.fastPath)
			}
			// And the public entry point agrees with the whole-file parse.
			got, err := ParseScenarios("s.yaml", []byte(tt.data), strictOpt(tt.strict)...)
			want, wantErr := parseWhole("s.yaml", []byte(tt.data), tt.strict)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("ParseScenarios differs: %v / %v", err, wantErr)
			}
		})
	}
}

func strictOpt(strict bool) []LoadOption {
	if strict {
		return []LoadOption{WithStrict()}
	}
	return nil
}

// Large files go through the fast path with the real piece size, and the
// scenario lines are the file's.
func TestParallelLargeFile(t *testing.T) {
	data := genScenarios(3000)
	if len(data) < parallelMin {
		t.Fatalf("test file is only %d bytes", len(data))
	}
	if !sameAsWhole(t, data, false, chunkSize) {
		t.Fatal("fast path not taken")
	}
	s, err := ParseScenarios("s.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	last := s[len(s)-1]
	lines := bytes.Split(data, []byte("\n"))
	if !bytes.Contains(lines[last.Line-1], []byte(fmt.Sprintf("scenario %d\"", len(s)-1))) {
		t.Fatalf("last scenario at line %d: %q", last.Line, lines[last.Line-1])
	}
}

func FuzzParseScenarios(f *testing.F) {
	f.Add([]byte(string(genScenarios(8))), 64)
	f.Add([]byte("scenarios:\n- {expected: {decision: DENY}}\n- {expected: {decision: ASK}}\n"), 8)
	f.Add([]byte("scenarios:\n  - name: \"a\n  - b\"\n    expected: {decision: DENY}\n  - expected: {decision: DENY}\n"), 4)
	f.Add([]byte("x: 1\nscenarios:\n  - expected: {decision: DENY}\n  - agent: {delegated_by: [a]}\n    expected: {decision: DENY}\n"), 1)
	f.Add([]byte("scenarios:\n  - &a {expected: {decision: DENY}}\n  - *a\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk < 1 || chunk > 1<<16 {
			chunk = 64
		}
		sameAsWhole(t, data, false, chunk)
		sameAsWhole(t, data, true, chunk)
		_, _ = ParseScenarios("s.yaml", data)
		_, _ = ParseCall("c.yaml", data)
	})
}
