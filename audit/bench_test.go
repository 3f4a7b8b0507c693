package audit

import (
	"bytes"
	"path/filepath"
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

// BenchmarkFileSinkEmit writes one typical event per call in each
// durability mode, from one caller and from 8 per CPU (as under RPC load).
func BenchmarkFileSinkEmit(b *testing.B) {
	for _, d := range []Durability{DurabilityOS, DurabilitySync, DurabilityBuffered} {
		b.Run("serial/mode="+d.String(), func(b *testing.B) {
			s, e := benchSink(b, d), testEvent(1)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Emit(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel/mode="+d.String(), func(b *testing.B) {
			s, e := benchSink(b, d), testEvent(1)
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Emit(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
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
