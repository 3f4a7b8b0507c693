package replay

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// FuzzRun feeds arbitrary logs to Run: it never panics, and when it accepts
// a log every line is counted and every call has a status.
func FuzzRun(f *testing.F) {
	seed, err := os.ReadFile(writeLog(f, flat(
		pair("a", tollgate.Allow, "allow_reads", session("s"), meta("note", strings.Repeat("n", 5000))),
		pair("b", tollgate.Allow, "allow_writes", write(tollgate.EffectWrite), param("password", "x")),
	)...))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"kind": "checkpoint"}` + "\n"))
	f.Add([]byte(`{"decision": {"decision": "DENY", "reason": "Rate limit exceeded: 1/1"}, "tool_request": {"metadata": {"risk": "[REDACTED]"}}}` + "\n"))
	f.Add([]byte(`{"decision": {"decision": "ALLOW"}, "tool_request": {"params": [1], "metadata": 3}}` + "\n"))
	r := replayer(f, candidate+guarded[strings.Index(guarded, "network_policy"):], schemaManifest)
	f.Fuzz(func(t *testing.T, log []byte) {
		calls := 0
		s, err := r.Run(bytes.NewReader(log), func(c *Call) error {
			calls++
			switch c.Status {
			case Unchanged, Changed, Undetermined, Skipped:
			default:
				t.Fatalf("call %+v has no status", c)
			}
			return nil
		})
		if err != nil {
			return
		}
		if s.Total != calls || s.Lines != bytes.Count(log, []byte{'\n'}) || s.Changed+s.Undetermined+s.Skipped > s.Total {
			t.Fatalf("summary %+v for %d calls", s, calls)
		}
	})
}
