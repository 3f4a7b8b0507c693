package anomaly

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// FuzzEmit feeds events at arbitrary times (far past, far future, out of
// order), agents and tools: Emit must never panic, and the series stay
// within their bound.
func FuzzEmit(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 'a', 'b'}, "bot", "read")
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x80}, "", "")
	f.Fuzz(func(t *testing.T, times []byte, agent, tool string) {
		d, err := New(WithMaxSeries(4), WithMinSamples(2), WithCooldown(0), WithLogger(discard))
		if err != nil {
			t.Fatal(err)
		}
		outcomes := []tollgate.Outcome{tollgate.OutcomeExecuted, tollgate.OutcomeFailed, tollgate.OutcomeBlocked}
		for i := 0; i+8 <= len(times); i += 8 {
			ns := int64(binary.LittleEndian.Uint64(times[i:]))
			e := &audit.Event{Timestamp: time.Unix(0, ns), Agent: tollgate.Agent{ID: agent + string(times[i])},
				ToolRequest: tollgate.ToolRequest{Tool: tool + string(times[i+1])}, Outcome: outcomes[int(times[i+2])%3]}
			if err := d.Emit(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		if d.Series() > 4 {
			t.Fatalf("%d series, want at most 4", d.Series())
		}
	})
}
