package policytest

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// mixedResult runs testdata/mixed_scenarios.yaml against the compat policy,
// with an evaluator that panics for tool "panic:tool" and a clock that
// ticks 250µs per reading, so every duration is reproducible.
func mixedResult(t *testing.T) *Result {
	t.Helper()
	p, err := policy.Load("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadScenarios("testdata/mixed_scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev := policy.EvaluatorFunc(func(a tollgate.Agent, i tollgate.Intent, r tollgate.ToolRequest) tollgate.Decision {
		if r.Tool == "panic:tool" {
			panic("evaluator exploded")
		}
		return p.Evaluate(a, i, r)
	})
	return Run(ev, s, WithClock(ticking(250*time.Microsecond)))
}

func TestReportersGolden(t *testing.T) {
	res := mixedResult(t)
	if res.Passed != 2 || res.Failed != 4 {
		t.Fatalf("passed %d failed %d", res.Passed, res.Failed)
	}
	for _, tt := range []struct {
		file string
		rep  Reporter
	}{
		{"text.golden", Text{}},
		{"quiet.golden", Text{Quiet: true}},
		{"json.golden", JSON{}},
		{"junit.golden", JUnit{Suite: "testdata/policy.yaml"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.rep.Report(&buf, res); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", tt.file), buf.Bytes())
		})
	}
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs (run go test -update after checking the change)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Summary is exactly Tollgate's layout: "\n" + banner ... + "\n" at the
// end, which print() follows with one more newline.
func TestSummaryLayout(t *testing.T) {
	res := &Result{
		Scenarios: []ScenarioResult{{Name: "a", Passed: true}, {Name: "b", Errors: []string{"e1", "e2"}}},
		Passed:    1, Failed: 1, Duration: 1250 * time.Microsecond,
	}
	want := "\n" +
		"============================================================\n" +
		"  Policy Test Results: 1/2 passed\n" +
		"============================================================\n" +
		"  [PASS] a\n" +
		"  [FAIL] b\n" +
		"         e1\n" +
		"         e2\n" +
		"------------------------------------------------------------\n" +
		"  1 FAILED (1.2ms)\n"
	if got := res.Summary(); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	var buf bytes.Buffer
	if err := (Text{}).Report(&buf, res); err != nil || buf.String() != want+"\n" {
		t.Fatalf("report %q %v", buf.String(), err)
	}
	buf.Reset()
	if err := (Text{Quiet: true}).Report(&buf, res); err != nil || buf.String() != "  [FAIL] b\n         e1\n         e2\n\n1/2 passed, 1 failed\n" {
		t.Fatalf("quiet %q %v", buf.String(), err)
	}
	empty := &Result{}
	if got := empty.Summary(); got != "\n"+rule60+"\n  Policy Test Results: 0/0 passed\n"+rule60+"\n"+dash60+"\n  ALL PASSED (0.0ms)\n" {
		t.Fatalf("empty %q", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestReportersReturnWriteErrors(t *testing.T) {
	res := mixedResult(t)
	for _, rep := range []Reporter{Text{}, Text{Quiet: true}, JSON{}, JUnit{}} {
		if err := rep.Report(failingWriter{}, res); err == nil {
			t.Errorf("%T: no error", rep)
		}
	}
}

// Names and messages come from scenario files: whatever they hold, the
// JUnit output must stay well-formed XML.
func TestJUnitIsWellFormed(t *testing.T) {
	nasty := "a\x01b ]]> <c> & \"d\" \uFFFE"
	res := &Result{
		Scenarios: []ScenarioResult{{Name: nasty, Errors: []string{"Reason: expected to contain '" + nasty + "'"}, Actual: tollgate.Decision{Type: tollgate.Deny, Reason: nasty}}},
		Failed:    1,
	}
	var buf bytes.Buffer
	if err := (JUnit{Suite: nasty}).Report(&buf, res); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, buf.Bytes())
	}
	c := doc.Suites[0].Cases[0]
	if doc.Failures != 1 || c.Failure == nil || !strings.Contains(c.Failure.Text, "]]>") || !strings.Contains(c.Name, "<c> &") {
		t.Fatalf("round trip lost data: %+v", c)
	}
}
