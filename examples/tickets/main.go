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
	"time"

	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
)

func main() {
	serveAddr := flag.String("serve", "", "only serve on `ADDR` (such as 127.0.0.1:8080) until interrupted")
	auditPath := flag.String("audit", "", "write the audit log to `FILE` (default: a temporary file, removed on exit)")
	jwksPath := flag.String("jwks", "", "with --serve, verify agent tokens with the keys in `FILE`, such as tollgate keygen's PREFIX.jwks.json (default: a fresh key, with a token for support-bot printed)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *serveAddr, *auditPath, *jwksPath)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
		os.Exit(1)
	}
}

// run runs the demo, or with addr set serves until ctx ends, verifying
// agent tokens with the keys in jwksPath. The configuration and, unless
// auditPath says otherwise, the audit log live in a temporary directory.
func run(ctx context.Context, addr, auditPath, jwksPath string) error {
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

	keys, err := serveKeys(jwksPath)
	if err != nil {
		return err
	}
	g, err := newGateway(dir, auditPath, keys)
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

// serveKeys returns the agent keys the server trusts: those of the JWKS
// file at path, or, without one, a fresh key whose token for support-bot
// (valid for an hour) is printed, so grpcurl and curl have one to send.
func serveKeys(path string) (identity.KeySet, error) {
	if path != "" {
		return identity.NewJWKSFile(path)
	}
	key, keys, err := newAgentKey()
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(key, time.Hour)
	if err != nil {
		return nil, err
	}
	token, err := signer.Token(context.Background())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "tickets: token for support-bot, valid for an hour:\nTOKEN=%s\n", token)
	return keys, nil
}
