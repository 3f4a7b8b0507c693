package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate/audit"
)

const dir = "../testdata/security_hardened"

func open(tb testing.TB) (*Gate, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "audit.jsonl")
	g, err := Open(dir, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := g.Close(); err != nil && !errors.Is(err, audit.ErrClosed) {
			tb.Error(err)
		}
	})
	return g, path
}

// TestCasesRunEveryStage checks that each measured call is allowed, runs
// the tool and leaves two records in an intact chain.
func TestCasesRunEveryStage(t *testing.T) {
	g, path := open(t)
	ctx := context.Background()
	for _, c := range Cases() {
		if err := g.Do(ctx, c.Call); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	lines, err := audit.VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * len(Cases()); lines != want {
		t.Errorf("audit has %d lines, want %d (authorized + executed per call)", lines, want)
	}
}

// BenchmarkSecurityHardened is one call through the whole pipeline on the
// example's files with the default audit file.
func BenchmarkSecurityHardened(b *testing.B) {
	for _, c := range Cases() {
		b.Run(c.Name, func(b *testing.B) {
			g, _ := open(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := g.Do(ctx, c.Call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
