package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

const (
	replayLog      = "testdata/replay/security_hardened.audit.jsonl" // Tollgate 1.4.0's own example log
	replayShipped  = "testdata/replay/security_hardened.policy.yaml"
	replayStricter = "testdata/replay/stricter.policy.yaml"
	replayManifest = "testdata/replay/security_hardened.manifest.yaml"
)

// replayJSON runs replay --format json and decodes its report.
func replayJSON(t *testing.T, args ...string) jsonReplay {
	t.Helper()
	r := cli(t, nil, append([]string{"replay", "--format", "json"}, args...)...).want(t, exitOK)
	var rep jsonReplay
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return rep
}

// moves renders the changed calls as "correlation-id-prefix:FROM→TO rule".
func moves(rep jsonReplay) []string {
	var out []string
	for _, c := range rep.Calls {
		if c.Status == "changed" {
			out = append(out, c.CorrelationID[:8]+":"+c.Old.Decision+"→"+c.New.Decision+" "+c.New.Rule)
		}
	}
	return out
}

// The done-when test of issue 11: replaying Tollgate 1.4.0's own example
// log lists exactly the calls whose decisions change.
func TestReplayTollgateExampleLog(t *testing.T) {
	// The log was written by older revisions of the demo policy, so even
	// the shipped policy decides three of its calls differently.
	drift := []string{
		"175e02be:DENY→ALLOW allow_reads",
		"6bf44c53:DENY→ALLOW allow_trusted_delegation",
		"775e2ad2:DENY→ALLOW allow_reads",
	}
	// The stricter candidate asks a human for every write through a
	// trusted delegation chain: those three (line 2's now ASK) and the
	// three ALLOWs of worker-agent's writes.
	stricter := []string{
		"175e02be:DENY→ALLOW allow_reads",
		"6bf44c53:DENY→ASK ask_trusted_delegation",
		"775e2ad2:DENY→ALLOW allow_reads",
		"44d1cd0a:ALLOW→ASK ask_trusted_delegation",
		"260fcb06:ALLOW→ASK ask_trusted_delegation",
		"51c7f33e:ALLOW→ASK ask_trusted_delegation",
	}
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"shipped", []string{replayLog, "--policy", replayShipped}, drift},
		{"shipped with manifest", []string{replayLog, "--policy", replayShipped, "--manifest", replayManifest}, drift},
		{"stricter", []string{replayLog, "--policy", replayStricter}, stricter},
		{"stricter with manifest", []string{replayLog, "--policy", replayStricter, "--manifest", replayManifest}, stricter},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := replayJSON(t, c.args...)
			if got := moves(rep); !slices.Equal(got, c.want) {
				t.Errorf("changed calls:\n got %q\nwant %q", got, c.want)
			}
			// The two rate-limited calls (lines 21 and 34) are skipped:
			// replay does not re-run rate limits.
			if rep.Lines != 34 || rep.Total != 34 || rep.Changed != len(c.want) || rep.Undetermined != 0 || rep.Skipped != 2 ||
				rep.Unchanged != 34-2-len(c.want) {
				t.Errorf("counts %+v", rep)
			}
		})
	}
}

func TestReplayGolden(t *testing.T) {
	for _, format := range []string{"text", "json", "junit"} {
		r := cli(t, nil, "replay", replayLog, "--policy", replayStricter, "--format", format).want(t, exitOK)
		golden(t, "../replay/stricter."+format, r.stdout)
	}
}

// writeRedactedLog writes, through a real FileSink (default redaction), a
// read whose session id is redacted and a write the stricter policy asks
// about.
func writeRedactedLog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, tool := range []string{"api:fetch_data", "api:write_file"} {
		e := &audit.Event{
			Timestamp: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC), CorrelationID: "call-" + tool,
			Agent:       tollgate.Agent{ID: "worker-agent", DelegatedBy: []string{"orchestrator"}},
			Intent:      tollgate.Intent{Action: "work", Metadata: tollgate.Params{{Key: "session_id", Value: "s-42"}}},
			ToolRequest: tollgate.ToolRequest{Tool: tool, Effect: tollgate.EffectRead, ResourceType: "data", ManifestVersion: "1.0.0"},
			Decision:    tollgate.Decision{Type: tollgate.Allow, PolicyID: "allow_reads"},
			Outcome:     tollgate.OutcomeExecuted,
		}
		if i == 1 {
			e.ToolRequest.Effect, e.Decision.PolicyID = tollgate.EffectWrite, "allow_trusted_delegation"
		}
		if err := sink.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayUndetermined(t *testing.T) {
	log := writeRedactedLog(t)
	dir := t.TempDir()
	// A candidate that denies one session first: the log holds every
	// session id redacted, so no call's decision can be known.
	sessionPolicy := mkfile(t, filepath.Join(dir, "session.yaml"), []byte(`
rules:
  - id: deny_bad_session
    intent: {session_id: s-bad}
    decision: DENY
  - id: allow_all
    decision: ALLOW
`))
	rep := replayJSON(t, log, "--policy", sessionPolicy)
	if rep.Total != 2 || rep.Undetermined != 2 || rep.Changed != 0 || len(rep.Calls) != 2 ||
		rep.Calls[0].New != nil || !strings.Contains(rep.Calls[0].Why, `rule 0 "deny_bad_session"`) ||
		!strings.Contains(rep.Calls[0].Why, "intent.session_id") {
		t.Fatalf("report %+v", rep)
	}
	cli(t, nil, "replay", log, "--policy", sessionPolicy, "--fail-on-change").want(t, exitFailed)

	// The stricter policy never reads the session: both calls decided,
	// the write changes.
	rep = replayJSON(t, log, "--policy", replayStricter)
	if rep.Undetermined != 0 || !slices.Equal(moves(rep), []string{"call-api:ALLOW→ASK ask_trusted_delegation"}) {
		t.Fatalf("report %+v", rep)
	}
}

func TestReplayExitCodes(t *testing.T) {
	dir := t.TempDir()
	// One line of the log the shipped policy still decides the same.
	lines := strings.SplitAfter(string(must(os.ReadFile(replayLog))), "\n")
	same := mkfile(t, filepath.Join(dir, "same.jsonl"), []byte(lines[9]))
	cli(t, nil, "replay", same, "--policy", replayShipped, "--fail-on-change").want(t, exitOK)
	cli(t, nil, "replay", replayLog, "--policy", replayStricter).want(t, exitOK)
	cli(t, nil, "replay", replayLog, "--policy", replayStricter, "--fail-on-change").want(t, exitFailed)

	bad := mkfile(t, filepath.Join(dir, "bad.jsonl"), []byte(lines[0]+`{"decision": {"decision": "allow"}}`+"\n"))
	badPolicy := mkfile(t, filepath.Join(dir, "bad.yaml"), []byte("rules:\n  - id: x\n    decison: ALLOW\n"))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no policy", []string{replayLog}, `"policy" not set`},
		{"no log", []string{"--policy", replayShipped}, "replay takes one argument"},
		{"bad format", []string{replayLog, "--policy", replayShipped, "--format", "xml"}, "--format must be one of"},
		{"missing log", []string{filepath.Join(dir, "none.jsonl"), "--policy", replayShipped}, "no such file"},
		{"bad line", []string{bad, "--policy", replayShipped}, `bad.jsonl: audit: line 2: "decision.decision": want ALLOW, ASK or DENY, got "allow"`},
		{"bad policy", []string{replayLog, "--policy", badPolicy}, "bad.yaml:3:5"},
		{"empty log", []string{mkfile(t, filepath.Join(dir, "empty.jsonl"), nil), "--policy", replayShipped}, "file is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cli(t, nil, append([]string{"replay"}, c.args...)...).want(t, exitUsage).oneLineErr(t, c.want)
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
