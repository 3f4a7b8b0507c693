package replay

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// benchLog returns n audit lines as the gateway writes them: allowed calls
// (an "authorized" and an "executed" record each) with a redacted session
// id, some of which the candidate now asks about, and every fifth call a
// refusal on its own line, undetermined (the candidate reads the session).
func benchLog(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	var line []byte
	for i, call := 0, 0; i < n; call++ {
		id := fmt.Sprintf("%08x-7d2c-4c1e-9a51-0242ac120002", i)
		e := event(id, tollgate.OutcomeAuthorized, tollgate.Allow, "allow_reads", session(audit.Redacted), meta("risk", 0.2))
		e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		if call%5 == 3 { // a risky write the candidate now asks about
			write(tollgate.EffectWrite)(e)
			e.ToolRequest.Metadata = tollgate.Params{{Key: "risk", Value: 0.9}}
		}
		if call%5 == 4 {
			write(tollgate.EffectDelete)(e)
			e.Decision, e.Outcome = tollgate.Decision{Type: tollgate.Deny, Reason: "No matching rule - denied by default"}, tollgate.OutcomeBlocked
			e.Stage, e.ReasonCode = tollgate.StagePolicy, tollgate.ReasonPolicyDenied
		}
		for range 2 {
			line = e.AppendJSON(line[:0])
			buf.Write(line)
			buf.WriteByte('\n')
			i++
			if e.Outcome != tollgate.OutcomeAuthorized {
				break
			}
			e.Outcome = tollgate.OutcomeExecuted
		}
	}
	return buf.Bytes()
}

// repeat reads block over and over, n times in all.
type repeat struct {
	block []byte
	n     int
	off   int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.block[r.off:])
	if r.off += k; r.off == len(r.block) {
		r.off, r.n = 0, r.n-1
	}
	return k, nil
}

// BenchmarkMillionLines times one replay of a million-line log (budget:
// 10 s, for CI). The log is a block of 1,000 lines read 1,000 times, so
// the benchmark does not hold a gigabyte of log in memory.
func BenchmarkMillionLines(b *testing.B) {
	block := benchLog(b, 1000)
	n := bytes.Count(block, []byte{'\n'})
	r := replayer(b, candidate, "")
	b.SetBytes(int64(len(block)) * 1000)
	for b.Loop() {
		s, err := r.Run(&repeat{block: block, n: 1000}, func(*Call) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if s.Lines != n*1000 || s.Changed == 0 || s.Undetermined == 0 {
			b.Fatalf("%+v", s)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*1000), "ns/line")
}
