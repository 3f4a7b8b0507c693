package tower

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/breaker"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/netguard"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/ratelimit"
	"github.com/tollgate-go/tollgate/registry"
)

const benchPolicy = `version: "1.0"
rules:
  - id: deny_delete
    effect: delete
    decision: DENY
  - id: allow_writes
    tool: "api:write_file"
    effect: write
    decision: ALLOW
    reason: "writes to /safe are fine"
  - id: deny_default
    decision: DENY
`

const benchManifest = `version: "1.0.0"
tools:
  "api:write_file":
    effect: write
    resource_type: file
    params_schema:
      type: object
      required: [path, content, mode]
      additionalProperties: false
      properties:
        path: {type: string, pattern: "^/safe/", maxLength: 255}
        content: {type: string, maxLength: 1048576}
        mode: {type: integer, minimum: 0, maximum: 511}
`

// pipelineCall is one ALLOW call through every stage: legacy HMAC
// identity, breaker, rate limit, indexed policy, network guard, a 3-field
// schema, constraints, grants store configured, and sink.
func pipelineCall(tb testing.TB, sink audit.Sink) (*Tower, Call) {
	tb.Helper()
	pol, err := policy.Parse("policy.yaml", []byte(benchPolicy))
	if err != nil {
		tb.Fatal(err)
	}
	man, err := registry.Parse("manifest.yaml", []byte(benchManifest))
	if err != nil {
		tb.Fatal(err)
	}
	lim, err := ratelimit.NewSlidingWindow([]ratelimit.Rule{{AgentID: "*", Tool: "*", MaxCalls: 1_000_000, Window: time.Second}})
	if err != nil {
		tb.Fatal(err)
	}
	guard, err := netguard.New(netguard.Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}})
	if err != nil {
		tb.Fatal(err)
	}
	br, err := breaker.New(breaker.Settings{})
	if err != nil {
		tb.Fatal(err)
	}
	secret := []byte("agent-signing-key-67890")
	tw, err := New(&Config{Policy: pol, Manifest: man, Limiter: lim, Guard: guard},
		WithVerifier(identity.NewLegacyHMAC(secret)), WithBreaker(br), WithGrants(grants.NewMemory()),
		WithAuditSink(sink), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	signed := identity.SignLegacy(tollgate.Agent{ID: "agent-1", Version: "1.0", Owner: "team"}, secret)
	params, err := tollgate.ParseParams([]byte(`{"path": "/safe/report.txt", "content": "quarterly numbers", "mode": 420}`))
	if err != nil {
		tb.Fatal(err)
	}
	return tw, Call{
		Credentials: identity.Credentials{Claimed: signed},
		Intent:      tollgate.Intent{Action: "write_report", Reason: "benchmark"},
		Request:     tollgate.ToolRequest{Tool: "api:write_file", Action: "write", Params: params},
	}
}

func okExec(context.Context) (any, error) { return "ok", nil }

// BenchmarkPipeline is pipelineCall with a hash-chained audit file in the
// default mode, DurabilityOS (two records per call: authorized and
// executed).
func BenchmarkPipeline(b *testing.B) {
	sink, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl")) // the default, DurabilityOS
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	tw, call := pipelineCall(b, sink)
	ctx := context.Background()
	if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineDiscard is the pipeline without audit I/O: what the
// stages themselves cost.
func BenchmarkPipelineDiscard(b *testing.B) {
	tw, call := pipelineCall(b, audit.Discard)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPipelineAllocations holds the hot path to its allocation budget
// (issue 10: at most 8 per call with the audit file; the stages take 6
// today: flight, correlation id, request hash, the agent's context, the
// breaker's done func and part of the network guard's).
func TestPipelineAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	tw, call := pipelineCall(t, audit.Discard)
	ctx := context.Background()
	n := testing.AllocsPerRun(200, func() {
		if _, err := tw.ExecuteCall(ctx, call, okExec); err != nil {
			t.Fatal(err)
		}
	})
	if n > 6 {
		t.Errorf("an allowed call allocates %v times, want at most 6", n)
	}
}

// BenchmarkSummary is the audit summary of a large result: rendering stops
// soon after the 200 characters it keeps.
func BenchmarkSummary(b *testing.B) {
	type item struct {
		ID   int      `json:"id"`
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	type listing struct {
		Items []item `json:"items"`
	}
	var big listing
	for i := 0; i < 1<<14; i++ { // about 1 MiB of JSON
		big.Items = append(big.Items, item{ID: i, Name: fmt.Sprintf("ticket-%06d with a title", i), Tags: []string{"open", "p2"}})
	}
	for _, bm := range []struct {
		name   string
		result any
	}{
		{"small", map[string]any{"status": "ok", "id": 42}},
		{"string_1MiB", strings.Repeat("x", 1<<20)},
		{"struct_1MiB", big},
		{"proto_small", &testv1.FetchResponse{Status: 200, Body: "hello"}},
		{"proto_1MiB", &testv1.FetchResponse{Status: 200, Body: strings.Repeat("x", 1<<20)}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				summarize(bm.result)
			}
		})
	}
}
