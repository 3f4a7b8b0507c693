package replay

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/tower"
)

// writeLog writes events through a real FileSink (default redaction and
// bounding, as in production) and returns the file.
func writeLog(t testing.TB, events ...*audit.Event) string {
	t.Helper()
	return writeLogWith(t, nil, events...)
}

func writeLogWith(t testing.TB, opts []audit.Option, events ...*audit.Event) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := sink.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// event is a call record; edit it with the options.
func event(id string, outcome tollgate.Outcome, d tollgate.DecisionType, rule string, edits ...func(*audit.Event)) *audit.Event {
	e := &audit.Event{
		Timestamp: t0, CorrelationID: id, RequestHash: "h-" + id,
		Agent:  tollgate.Agent{ID: "bot", Version: "1.0", Owner: "team"},
		Intent: tollgate.Intent{Action: "act", Reason: "because"},
		ToolRequest: tollgate.ToolRequest{
			Tool: "api:fetch", Action: "get", ResourceType: "data", Effect: tollgate.EffectRead,
			Params: tollgate.Params{{Key: "url", Value: "https://api.example.com/x"}}, ManifestVersion: "1.0.0",
		},
		Decision: tollgate.Decision{Type: d, PolicyID: rule, Reason: "recorded"},
		Outcome:  outcome,
	}
	for _, edit := range edits {
		edit(e)
	}
	return e
}

// pair is an allowed call's two records.
func pair(id string, d tollgate.DecisionType, rule string, edits ...func(*audit.Event)) []*audit.Event {
	return []*audit.Event{
		event(id, tollgate.OutcomeAuthorized, d, rule, edits...),
		event(id, tollgate.OutcomeExecuted, d, rule, edits...),
	}
}

func write(effect tollgate.Effect) func(*audit.Event) {
	return func(e *audit.Event) { e.ToolRequest.Tool, e.ToolRequest.Effect = "api:write", effect }
}

func meta(key string, v any) func(*audit.Event) {
	return func(e *audit.Event) {
		e.ToolRequest.Metadata = append(e.ToolRequest.Metadata, tollgate.Field{Key: key, Value: v})
	}
}

func session(id string) func(*audit.Event) {
	return func(e *audit.Event) { e.Intent.Metadata = tollgate.Params{{Key: "session_id", Value: id}} }
}

func param(key string, v any) func(*audit.Event) {
	return func(e *audit.Event) {
		e.ToolRequest.Params = append(e.ToolRequest.Params.Clone(), tollgate.Field{Key: key, Value: v})
	}
}

func refusedBy(stage tollgate.Stage, code tollgate.Reason) func(*audit.Event) {
	return func(e *audit.Event) { e.Stage, e.ReasonCode = stage, code }
}

// flat joins event lists.
func flat(lists ...[]*audit.Event) []*audit.Event {
	var out []*audit.Event
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// replayer loads a candidate policy (and manifest) written in dir as the
// CLI does.
func replayer(t testing.TB, policyYAML, manifestYAML string) *Replayer {
	t.Helper()
	dir := t.TempDir()
	files := tower.Files{Policy: filepath.Join(dir, "policy.yaml")}
	if err := os.WriteFile(files.Policy, []byte(policyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if manifestYAML != "" {
		files.Manifest = filepath.Join(dir, "manifest.yaml")
		if err := os.WriteFile(files.Manifest, []byte(manifestYAML), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := tower.LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	var opts []Option
	if cfg.Manifest != nil {
		opts = append(opts, WithManifest(cfg.Manifest))
	}
	if cfg.Guard != nil {
		opts = append(opts, WithGuard(cfg.Guard))
	}
	return New(cfg.Policy.(*policy.Policy), opts...)
}

// runFile replays path and returns the summary and every call by
// correlation id.
func runFile(t testing.TB, r *Replayer, path string) (*Summary, map[string]Call) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls := map[string]Call{}
	s, err := r.Run(f, func(c *Call) error {
		if _, dup := calls[c.CorrelationID]; dup {
			t.Errorf("call %s replayed twice", c.CorrelationID)
		}
		calls[c.CorrelationID] = *c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, calls
}

// statuses renders each call's status as "id=status", sorted by id.
func statuses(calls map[string]Call) string {
	var out []string
	for id, c := range calls {
		out = append(out, id+"="+string(c.Status))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
