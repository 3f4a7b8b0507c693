package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/tower"
)

func main() {
	var o options
	flag.StringVar(&o.addr, "serve", "", "only serve on `ADDR` (such as 127.0.0.1:8080) until interrupted")
	flag.StringVar(&o.adminAddr, "admin", "127.0.0.1:8081", "with --serve, serve the admin API on `ADDR` (approvals, grants)")
	flag.StringVar(&o.auditPath, "audit", "", "write the audit log to `FILE` (default: a temporary file, removed on exit)")
	flag.StringVar(&o.auditKeyPath, "audit-key", "", "with --serve, sign audit checkpoints with the Ed25519 key in `FILE` (tollgate keygen's PREFIX.key); check them with tollgate audit verify --pub PREFIX.pub")
	flag.StringVar(&o.jwksPath, "jwks", "", "with --serve, verify agent tokens with the keys in `FILE`, such as tollgate keygen's PREFIX.jwks.json (default: a fresh key, with a token for support-bot printed)")
	flag.StringVar(&o.adminJWKSPath, "admin-jwks", "", "with --serve, verify admin tokens with the keys in `FILE` (default: a fresh key, with a token for alice printed)")
	flag.StringVar(&o.policyPath, "policy", "", "with --serve, enforce the policy in `FILE` instead of the built-in policy.yaml, reloaded when it changes or on SIGHUP (a broken one is rejected and audited; the last good one stays)")
	flag.StringVar(&o.manifestPath, "manifest", "", "with --serve, use the tool manifest in `FILE` instead of the built-in manifest.yaml, reloaded like --policy")
	flag.StringVar(&o.redisAddr, "redis", "", "with --serve, keep approvals, grants and kill switches in the Redis server at `HOST:PORT`, shared by every replica using it (default: in memory, lost on exit)")
	flag.StringVar(&o.metricsAddr, "metrics", "", "with --serve, serve Prometheus metrics at http://`ADDR`/metrics (see docs/OBSERVABILITY.md)")
	flag.BoolVar(&o.trace, "trace", false, "with --serve, write OpenTelemetry spans to stdout as JSON: otelgrpc's and otelconnect's server spans, the gate's span under them (see docs/OBSERVABILITY.md)")
	flag.Parse()
	redis.SetLogger(quietRedis{})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
		os.Exit(1)
	}
}

// options are the command line's.
type options struct {
	addr, adminAddr          string
	auditPath, auditKeyPath  string
	jwksPath, adminJWKSPath  string
	policyPath, manifestPath string
	redisAddr                string
	metricsAddr              string
	trace                    bool
}

// run runs the demo, or with o.addr set serves the tools there and the
// admin API on o.adminAddr until ctx ends, verifying agent and admin
// tokens with the keys in the JWKS files and keeping approvals, grants and
// kill switches in memory or, with o.redisAddr, in Redis. The configuration and, unless
// o.auditPath says otherwise, the audit log live in a temporary directory.
func run(ctx context.Context, o options) (err error) {
	dir, err := os.MkdirTemp("", "tollgate-tickets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	auditPath, where := o.auditPath, o.auditPath
	if auditPath == "" {
		auditPath = filepath.Join(dir, "audit.jsonl")
		where = auditPath + " (removed on exit; --audit FILE keeps it)"
	}
	if o.addr == "" {
		if o.redisAddr != "" {
			return errors.New("--redis needs --serve: the demo keeps its state in memory")
		}
		if o.metricsAddr != "" {
			return errors.New("--metrics needs --serve: the demo serves nothing")
		}
		if o.trace {
			return errors.New("--trace needs --serve: the demo prints to stdout")
		}
		_, err := runDemo(ctx, os.Stdout, dir, auditPath)
		return err
	}

	keys, err := serveKeys(o.jwksPath, "support-bot", "TOKEN", newSigner)
	if err != nil {
		return err
	}
	adminKeys, err := serveKeys(o.adminJWKSPath, "alice (admin)", "TOLLGATE_ADMIN_TOKEN", newAdminSigner)
	if err != nil {
		return err
	}
	var auditOpts []audit.Option
	if o.auditKeyPath != "" {
		key, err := audit.ReadCheckpointKey(o.auditKeyPath)
		if err != nil {
			return err
		}
		auditOpts = append(auditOpts, audit.WithCheckpointKey(key))
	}
	files, err := writeConfig(dir)
	if err != nil {
		return err
	}
	if o.policyPath != "" {
		files.Policy = o.policyPath
	}
	if o.manifestPath != "" {
		files.Manifest = o.manifestPath
	}
	st, err := memoryStores()
	state := "in memory (lost on exit; --redis HOST:PORT shares it between replicas)"
	if o.redisAddr != "" {
		st, err = redisStores(ctx, o.redisAddr)
		state = "in Redis at " + o.redisAddr
	}
	if err != nil {
		return err
	}
	stopStores := st.start(ctx, func(err error) { fmt.Fprintln(os.Stderr, "tickets:", err) })
	defer func() { err = errors.Join(err, stopStores()) }()
	var tp trace.TracerProvider // nil: no tracing
	if o.trace {
		sdk, err := newStdoutTracing(os.Stdout)
		if err != nil {
			return err
		}
		// Shut down when the servers have stopped: it flushes the spans
		// of the last calls.
		defer func() { err = errors.Join(err, sdk.Shutdown(context.Background())) }()
		tp = sdk
	}
	g, err := newGatewayFiles(files, st, auditPath, keys, adminKeys, tp, auditOpts...)
	if err != nil {
		return err
	}
	// Edits to the files, and SIGHUP, reload them: verified before they
	// take effect, audited as config_loaded or config_rejected.
	if _, err := tower.Watch(ctx, g.tower, files, tower.WithReloadSignal(syscall.SIGHUP)); err != nil {
		return errors.Join(err, g.audit.Close())
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return errors.Join(err, g.audit.Close())
	}
	adminL, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		return errors.Join(err, l.Close(), g.audit.Close())
	}
	if o.metricsAddr != "" {
		ml, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			return errors.Join(err, l.Close(), adminL.Close(), g.audit.Close())
		}
		fmt.Fprintf(os.Stderr, "tickets: metrics on http://%s/metrics\n", ml.Addr())
		go func() {
			if err := g.serveMetrics(ctx, ml); err != nil {
				fmt.Fprintln(os.Stderr, "tickets: metrics:", err)
			}
		}()
	}
	fmt.Fprintf(os.Stderr, "tickets: serving gRPC and Connect on %s (h2c)\ntickets: admin API on %s (h2c)\ntickets: audit log %s\ntickets: policy %s, manifest %s (reloaded on change and SIGHUP)\ntickets: approvals, grants and kill switches %s\n", l.Addr(), adminL.Addr(), where, files.Policy, files.Manifest, state)
	if err := g.serve(ctx, l, adminL); err != nil {
		return err
	}
	lines, err := audit.VerifyFile(auditPath)
	if err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	fmt.Fprintf(os.Stderr, "tickets: stopped; audit: %d records, hash chain verified\n", lines)
	return nil
}

// serveKeys returns the keys the server trusts for one kind of token:
// those of the JWKS file at path, or, without one, a fresh key whose
// token for who (minted by mint, valid for an hour) is printed as
// variable=token, so that grpcurl, curl and the tollgate CLI have one to
// send.
func serveKeys(path, who, variable string, mint func(ed25519.PrivateKey, time.Duration) (*identity.Signer, error)) (identity.KeySet, error) {
	if path != "" {
		return identity.NewJWKSFile(path)
	}
	key, keys, err := newAgentKey()
	if err != nil {
		return nil, err
	}
	signer, err := mint(key, time.Hour)
	if err != nil {
		return nil, err
	}
	token, err := signer.Token(context.Background())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "tickets: token for %s, valid for an hour:\n%s=%s\n", who, variable, token)
	return keys, nil
}
