package audit

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func benchSink(b *testing.B, d Durability) *FileSink {
	s, err := OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"), WithDurability(d))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchCalls returns n calls' records in the order the tower writes them:
// "authorized", then "executed" with the same agent, intent and request.
func benchCalls(n int) [][2]*Event {
	calls := make([][2]*Event, n)
	for i := range calls {
		a := testEvent(i)
		a.Outcome, a.ResultSummary = tollgate.OutcomeAuthorized, ""
		x := *a
		x.Outcome, x.ResultSummary = tollgate.OutcomeExecuted, "ok"
		calls[i] = [2]*Event{a, &x}
	}
	return calls
}

// runBench runs emit once per op, from one caller or from 8 per CPU (as
// under RPC load); i counts the ops.
func runBench(b *testing.B, parallel bool, emit func(i uint64) error) {
	b.ReportAllocs()
	if !parallel {
		for i := uint64(0); b.Loop(); i++ {
			if err := emit(i); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	var n atomic.Uint64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := emit(n.Add(1)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFileSinkEmit writes one record per op, each of another call
// (as a refusal is: nothing to reuse), in each durability mode.
func BenchmarkFileSinkEmit(b *testing.B) {
	calls := benchCalls(4096)
	for _, d := range []Durability{DurabilityOS, DurabilitySync, DurabilityBuffered} {
		for _, par := range []bool{false, true} {
			b.Run(fmt.Sprintf("parallel=%v/mode=%v", par, d), func(b *testing.B) {
				s := benchSink(b, d)
				runBench(b, par, func(i uint64) error { return s.Emit(ctx, calls[i%4096][1]) })
			})
		}
	}
}

// BenchmarkFileSinkCall writes a call's two records per op, as the tower
// does: the second reuses the request part the first encoded.
func BenchmarkFileSinkCall(b *testing.B) {
	calls := benchCalls(4096)
	for _, d := range []Durability{DurabilityOS, DurabilitySync, DurabilityBuffered} {
		for _, par := range []bool{false, true} {
			b.Run(fmt.Sprintf("parallel=%v/mode=%v", par, d), func(b *testing.B) {
				s := benchSink(b, d)
				runBench(b, par, func(i uint64) error {
					c := calls[i%4096]
					return errors.Join(s.Emit(ctx, c[0]), s.Emit(ctx, c[1]))
				})
			})
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	clean := mustParams(b, `{"path": "/safe/test.txt", "content": "Hello", "options": {"mode": "0644", "tags": ["a", "b"]}, "retries": 3}`)
	secret := mustParams(b, `{"path": "/safe/test.txt", "content": "Hello", "options": {"mode": "0644", "api_key": "k"}, "retries": 3}`)
	for name, p := range map[string]tollgate.Params{"nothing": clean, "nested": secret} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DefaultRedactor.Params(p)
			}
		})
	}
}

func BenchmarkEventAppendJSON(b *testing.B) {
	e := testEvent(1)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkVerify(b *testing.B) {
	data := chainBytes(b, 1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedactText is the by-value scan of one ordinary string.
func BenchmarkRedactText(b *testing.B) {
	s := "close ticket T-12345 for alice@example.com: customer reports the export at /srv/exports/2026/02 fails"
	b.ReportAllocs()
	for b.Loop() {
		DefaultRedactor.Text(s)
	}
}

// BenchmarkRecordEncode redacts, bounds and encodes a call's two records:
// each whole ("whole"), or the second reusing the first's request part
// ("segments", as FileSink does).
func BenchmarkRecordEncode(b *testing.B) {
	calls := benchCalls(4096)
	buf := make([]byte, 0, 4096)
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := calls[i%4096]
			buf = appendRecord(buf[:0], c[0], DefaultRedactor, DefaultMaxValueSize)
			buf = appendRecord(buf[:0], c[1], DefaultRedactor, DefaultMaxValueSize)
		}
	})
	b.Run("segments", func(b *testing.B) {
		segs := newSegments()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := calls[i%4096]
			buf = segs.appendRecord(buf[:0], c[0], DefaultRedactor, DefaultMaxValueSize)
			buf = segs.appendRecord(buf[:0], c[1], DefaultRedactor, DefaultMaxValueSize)
		}
	})
}
