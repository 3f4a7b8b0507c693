// Package pipeline runs Tollgate's whole pipeline (tower.LoadFiles,
// tower.New, ExecuteCall) on Tollgate 1.4.0's security_hardened policy and
// manifest with a hash-chained audit file in the default durability mode,
// the configuration a user of the defaults gets, for comparison with
// Python Tollgate 1.4.0 on the same files.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/tower"
)

// Case is one call the example policy allows, so it runs every stage and
// writes two audit records (authorized, then executed).
type Case struct {
	Name string
	Call tower.Call
}

// Cases are the measured calls: a read with a URL checked against the
// manifest's URL patterns, and a delegated write whose params are checked
// against the manifest's JSON schema.
func Cases() []Case {
	fetch, _ := tollgate.ParseParams([]byte(`{"url": "https://api.github.com/repos/tollgate/tollgate"}`))
	write, _ := tollgate.ParseParams([]byte(`{"path": "/safe/report.txt", "content": "quarterly numbers"}`))
	return []Case{
		{"fetch", tower.Call{
			Credentials: identity.Credentials{Claimed: tollgate.Agent{ID: "test-agent", Version: "1.0", Owner: "test-team"}},
			Intent:      tollgate.Intent{Action: "fetch_data", Reason: "benchmark"},
			Request:     tollgate.ToolRequest{Tool: "api:fetch_data", Action: "get", Params: fetch},
		}},
		{"write", tower.Call{
			Credentials: identity.Credentials{Claimed: tollgate.Agent{ID: "worker", Version: "1.0", Owner: "test-team", DelegatedBy: []string{"orchestrator"}}},
			Intent:      tollgate.Intent{Action: "write_data", Reason: "benchmark"},
			Request:     tollgate.ToolRequest{Tool: "api:write_file", Action: "write", Params: write},
		}},
	}
}

// Gate is a Tower over the example's files and its audit file.
type Gate struct {
	Tower *tower.Tower
	Sink  *audit.FileSink
}

// Open loads dir/policy.yaml and dir/manifest.yaml and opens auditPath
// with audit.OpenFile's defaults, changed by opts.
func Open(dir, auditPath string, opts ...audit.Option) (*Gate, error) {
	cfg, err := tower.LoadFiles(tower.Files{
		Policy:   filepath.Join(dir, "policy.yaml"),
		Manifest: filepath.Join(dir, "manifest.yaml"),
	})
	if err != nil {
		return nil, err
	}
	sink, err := audit.OpenFile(auditPath, opts...)
	if err != nil {
		return nil, err
	}
	tw, err := tower.New(cfg, tower.WithAuditSink(sink))
	if err != nil {
		return nil, errors.Join(err, sink.Close())
	}
	return &Gate{Tower: tw, Sink: sink}, nil
}

// Close closes the audit file.
func (g *Gate) Close() error { return g.Sink.Close() }

// exec is the tool: it does nothing, so the pipeline is all that is timed.
func exec(context.Context) (any, error) { return "ok", nil }

// Do runs one call and fails unless the tool ran.
func (g *Gate) Do(ctx context.Context, call tower.Call) error {
	res, err := g.Tower.ExecuteCall(ctx, call, exec)
	if err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("pipeline: tool result %v, want ok", res)
	}
	return nil
}

// Measure runs call n times in a row and returns the mean time per call.
func (g *Gate) Measure(ctx context.Context, call tower.Call, n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if err := g.Do(ctx, call); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}
