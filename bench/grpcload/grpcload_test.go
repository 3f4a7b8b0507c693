package grpcload

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/audit"
)

func start(t *testing.T, gated bool) (*Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := Start(ServerConfig{Gated: gated, Dir: "../testdata/echo", AuditPath: path})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// TestGatedLoadAuditsEveryCall runs a small gated load and checks that
// every call, warm-up included, left its two records in an intact chain.
func TestGatedLoadAuditsEveryCall(t *testing.T) {
	s, path := start(t, true)
	r, err := Load(context.Background(), LoadConfig{Addr: s.Addr, Gated: true, Workers: 4, Calls: 300})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if r.Calls != 300 || len(r.Latencies) != 300 {
		t.Errorf("made %d calls (%d latencies), want 300", r.Calls, len(r.Latencies))
	}
	lines, err := audit.VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (300 + warmup); lines != want {
		t.Errorf("audit has %d lines, want %d", lines, want)
	}
}

func TestBareLoadForADuration(t *testing.T) {
	s, _ := start(t, false)
	defer s.Stop()
	r, err := Load(context.Background(), LoadConfig{Addr: s.Addr, Workers: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Calls == 0 || r.Elapsed < 100*time.Millisecond || r.Elapsed > 5*time.Second {
		t.Errorf("%d calls in %v", r.Calls, r.Elapsed)
	}
	if p50, p99 := r.Percentile(50), r.Percentile(99); p50 <= 0 || p50 > p99 {
		t.Errorf("p50 %v, p99 %v", p50, p99)
	}
}

func TestPercentile(t *testing.T) {
	r := Result{Latencies: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	for p, want := range map[float64]time.Duration{50: 5, 99: 10, 90: 9, 0: 1, 100: 10} {
		if got := r.Percentile(p); got != want {
			t.Errorf("Percentile(%v) = %v, want %v", p, got, want)
		}
	}
	if (&Result{}).Percentile(50) != 0 {
		t.Error("empty result has a percentile")
	}
}

func TestLoadRefusesAnEmptyRun(t *testing.T) {
	if _, err := Load(context.Background(), LoadConfig{Addr: "127.0.0.1:1", Workers: 1}); err == nil {
		t.Error("no calls and no duration accepted")
	}
}
