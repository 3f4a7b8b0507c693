package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tollgate-go/tollgate/audit"
)

func main() {
	serveAddr := flag.String("serve", "", "only serve on `ADDR` (such as 127.0.0.1:8080) until interrupted")
	auditPath := flag.String("audit", "", "write the audit log to `FILE` (default: a temporary file, removed on exit)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *serveAddr, *auditPath)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
		os.Exit(1)
	}
}

// run runs the demo, or with addr set serves until ctx ends. The
// configuration and, unless auditPath says otherwise, the audit log live
// in a temporary directory.
func run(ctx context.Context, addr, auditPath string) error {
	dir, err := os.MkdirTemp("", "tollgate-tickets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	where := auditPath
	if auditPath == "" {
		auditPath = filepath.Join(dir, "audit.jsonl")
		where = auditPath + " (removed on exit; --audit FILE keeps it)"
	}
	if addr == "" {
		_, err := runDemo(ctx, os.Stdout, dir, auditPath)
		return err
	}

	g, err := newGateway(dir, auditPath)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Join(err, g.audit.Close())
	}
	fmt.Fprintf(os.Stderr, "tickets: serving gRPC and Connect on %s (h2c)\ntickets: audit log %s\n", l.Addr(), where)
	if err := g.serve(ctx, l); err != nil {
		return err
	}
	lines, err := audit.VerifyFile(auditPath)
	if err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	fmt.Fprintf(os.Stderr, "tickets: stopped; audit: %d records, hash chain verified\n", lines)
	return nil
}
