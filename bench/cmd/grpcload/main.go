// Command grpcload compares bare and gated unary gRPC over TCP loopback
// (127.0.0.1, a free port), ghz-style: -c workers share one connection and
// make -n calls (or run for -d), bare and gated alternating for -rounds
// rounds so that both see the same machine load. The gated server writes
// a real hash-chained audit file in the default durability mode. Client
// and server run in this one process and share its CPUs. Run it from the
// bench directory:
//
//	go run ./cmd/grpcload [-c 8] [-n 20000] [-d 0] [-rounds 3] [-durability sync|os|buffered] [-auditdir DIR] [-cpuprofile FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/bench"
	"github.com/tollgate-go/tollgate/bench/grpcload"
)

func main() {
	workers := flag.Int("c", 8, "concurrent workers")
	calls := flag.Int("n", 20000, "calls per run (0: run for -d)")
	dur := flag.Duration("d", 0, "stop each run after this long (0: no bound)")
	rounds := flag.Int("rounds", 3, "rounds of bare then gated")
	dir := flag.String("dir", "testdata/echo", "folder with the gated server's policy.yaml and manifest.yaml")
	durability := flag.String("durability", "", "audit durability of the gated server: sync, os or buffered (default: the library's default)")
	auditDir := flag.String("auditdir", "", "where to create the audit files (fsync cost depends on the file system; default: the system's temporary folder)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (bare and gated, client and server) to this file")
	flag.Parse()
	opts, mode, err := bench.DurabilityFlag(*durability)
	if err == nil {
		srv := grpcload.ServerConfig{Dir: *dir, AuditOptions: opts}
		err = run(srv, *auditDir, mode, *cpuProfile, *rounds, grpcload.LoadConfig{Workers: *workers, Calls: *calls, Duration: *dur})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpcload:", err)
		os.Exit(1)
	}
}

func run(srv grpcload.ServerConfig, auditDir, mode, cpuProfile string, rounds int, cfg grpcload.LoadConfig) error {
	tmp, err := os.MkdirTemp(auditDir, "tollgate-grpcload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	bound := fmt.Sprintf("%d calls", cfg.Calls)
	if cfg.Duration > 0 {
		bound += fmt.Sprintf(" (at most %v)", cfg.Duration)
	}
	fmt.Printf("unary Echo over TCP loopback, %d workers, %s per run; gated: audit file, durability %s\n", cfg.Workers, bound, mode)
	var ratios []float64
	for r := range rounds {
		var perSec [2]float64
		for i, gated := range []bool{false, true} {
			srv.Gated, srv.AuditPath = gated, filepath.Join(tmp, fmt.Sprintf("audit-%d.jsonl", r))
			res, err := once(srv, cfg)
			if err != nil {
				return err
			}
			perSec[i] = res.PerSecond()
			fmt.Printf("round %d  %-5s %9.0f calls/s  p50 %7.1f µs  p99 %7.1f µs  (%d calls in %v)\n",
				r+1, name(gated), res.PerSecond(), micros(res.Percentile(50)), micros(res.Percentile(99)), res.Calls, res.Elapsed.Round(time.Millisecond))
		}
		ratios = append(ratios, perSec[1]/perSec[0])
		fmt.Printf("round %d  gated/bare throughput %.1f %%\n", r+1, 100*perSec[1]/perSec[0])
	}
	lo, hi := ratios[0], ratios[0]
	for _, x := range ratios {
		lo, hi = min(lo, x), max(hi, x)
	}
	fmt.Printf("gated/bare throughput over %d rounds: %.1f–%.1f %%\n", rounds, 100*lo, 100*hi)
	return nil
}

// once starts a server, loads it and stops it.
func once(srv grpcload.ServerConfig, cfg grpcload.LoadConfig) (*grpcload.Result, error) {
	s, err := grpcload.Start(srv)
	if err != nil {
		return nil, err
	}
	cfg.Addr, cfg.Gated = s.Addr, srv.Gated
	res, err := grpcload.Load(context.Background(), cfg)
	if stopErr := s.Stop(); err == nil {
		err = stopErr
	}
	if err != nil || !srv.Gated {
		return res, err
	}
	// Every gated call, warm-up included, must have left two records.
	lines, err := audit.VerifyFile(srv.AuditPath)
	if err == nil && lines < 2*res.Calls {
		err = fmt.Errorf("audit has %d lines for %d calls", lines, res.Calls)
	}
	return res, err
}

func name(gated bool) string {
	if gated {
		return "gated"
	}
	return "bare"
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
