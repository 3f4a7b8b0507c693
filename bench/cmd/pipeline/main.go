// Command pipeline times Tollgate's whole pipeline on Tollgate 1.4.0's
// security_hardened policy and manifest with a hash-chained audit file in
// the default durability mode (or -durability), and prints µs/call for
// each measured call, round by round, for comparison with Python Tollgate 1.4.0 on the same
// files. Run it from the bench directory:
//
//	go run ./cmd/pipeline [-n 20000] [-rounds 5] [-dir testdata/security_hardened] [-durability sync|os|buffered] [-auditdir DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/bench"
	"github.com/tollgate-go/tollgate/bench/pipeline"
)

func main() {
	n := flag.Int("n", 20000, "calls per case and round")
	rounds := flag.Int("rounds", 5, "rounds; cases alternate within each round")
	dir := flag.String("dir", "testdata/security_hardened", "folder with policy.yaml and manifest.yaml")
	durability := flag.String("durability", "", "audit durability: sync, os or buffered (default: the library's default)")
	auditDir := flag.String("auditdir", "", "where to create the audit file (fsync cost depends on the file system; default: the system's temporary folder)")
	flag.Parse()
	opts, mode, err := bench.DurabilityFlag(*durability)
	if err == nil {
		err = run(*dir, *auditDir, mode, opts, *n, *rounds)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

func run(dir, auditDir, mode string, opts []audit.Option, n, rounds int) error {
	if n < 1 || rounds < 1 {
		return fmt.Errorf("-n and -rounds must be at least 1")
	}
	tmp, err := os.MkdirTemp(auditDir, "tollgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "audit.jsonl")
	g, err := pipeline.Open(dir, path, opts...)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cases := pipeline.Cases()
	times := make(map[string][]time.Duration)
	fmt.Printf("security_hardened (%s), audit file %s, durability %s, %d sequential calls per round\n", dir, path, mode, n)
	for r := range rounds {
		for _, c := range cases {
			d, err := g.Measure(ctx, c.Call, n)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			times[c.Name] = append(times[c.Name], d)
			fmt.Printf("round %d  %-6s %8.2f µs/call\n", r+1, c.Name, micros(d))
		}
	}
	if err := g.Close(); err != nil {
		return err
	}
	lines, err := audit.VerifyFile(path)
	if err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	for _, c := range cases {
		ts := times[c.Name]
		fmt.Printf("%-6s %.2f–%.2f µs/call over %d rounds\n", c.Name, micros(slices.Min(ts)), micros(slices.Max(ts)), rounds)
	}
	fmt.Printf("audit: %d lines, chain verified\n", lines)
	return nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
