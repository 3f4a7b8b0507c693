package policytest

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Reporter writes a Result.
type Reporter interface {
	Report(w io.Writer, r *Result) error
}

// Text is Tollgate's report, line for line, so that CI log searches written
// for Tollgate keep working. Quiet prints only the failing scenarios and a
// one-line count, as Tollgate's --quiet does.
type Text struct {
	Quiet bool
}

// Report writes the report.
func (t Text) Report(w io.Writer, r *Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if t.Quiet {
		for i := range r.Scenarios {
			if sr := &r.Scenarios[i]; !sr.Passed {
				writeScenario(bw, sr)
			}
		}
		fmt.Fprintf(bw, "\n%d/%d passed, %d failed\n", r.Passed, r.Total(), r.Failed)
	} else {
		writeSummary(bw, r)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Summary is Tollgate's PolicyTestRunResult.summary(): a banner with the
// count, one [PASS] or [FAIL] line per scenario with each error under it,
// and a closing "ALL PASSED (1.2ms)" or "3 FAILED (1.2ms)" line.
func (r *Result) Summary() string {
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	writeSummary(bw, r)
	bw.Flush()
	return b.String()
}

var (
	rule60 = strings.Repeat("=", 60)
	dash60 = strings.Repeat("-", 60)
)

func writeSummary(w *bufio.Writer, r *Result) {
	fmt.Fprintf(w, "\n%s\n  Policy Test Results: %d/%d passed\n%s\n", rule60, r.Passed, r.Total(), rule60)
	for i := range r.Scenarios {
		writeScenario(w, &r.Scenarios[i])
	}
	status := "ALL PASSED"
	if !r.AllPassed() {
		status = fmt.Sprintf("%d FAILED", r.Failed)
	}
	fmt.Fprintf(w, "%s\n  %s (%.1fms)\n", dash60, status, ms(r.Duration))
}

func writeScenario(w *bufio.Writer, sr *ScenarioResult) {
	if sr.Passed {
		w.WriteString("  [PASS] ")
		w.WriteString(sr.Name)
		w.WriteByte('\n')
		return
	}
	w.WriteString("  [FAIL] ")
	w.WriteString(sr.Name)
	w.WriteByte('\n')
	for _, e := range sr.Errors {
		w.WriteString("         ")
		w.WriteString(e)
		w.WriteByte('\n')
	}
}
