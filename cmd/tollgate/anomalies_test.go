package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

const anomaliesHardened = "testdata/anomalies/security_hardened.audit.jsonl" // Tollgate 1.4.0's own example log

// writeSyntheticLog writes, through this gateway's file sink (hash chain,
// an "authorized" record before each executed call, a config record), 30
// quiet minutes of support-bot reading tickets, then in one minute: 40
// reads, 5 failed reads, 5 blocked reads and a first call of delete.
func writeSyntheticLog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 2, 5, 3, 0, 0, 0, time.UTC)
	emit := func(tool string, out tollgate.Outcome, at time.Time) {
		t.Helper()
		e := &audit.Event{Timestamp: at, CorrelationID: at.Format(time.RFC3339Nano),
			Agent: tollgate.Agent{ID: "support-bot"}, ToolRequest: tollgate.ToolRequest{Tool: tool}, Outcome: out}
		if out == tollgate.OutcomeExecuted {
			auth := *e
			auth.Outcome = tollgate.OutcomeAuthorized
			if err := sink.Emit(context.Background(), &auth); err != nil {
				t.Fatal(err)
			}
		}
		if err := sink.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &audit.Event{Kind: audit.KindConfigLoaded, Timestamp: start, Config: &audit.ConfigChange{}}
	if err := sink.Emit(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	for m := range 30 {
		for i := range 2 + 2*(m%2) {
			emit("tickets.read", tollgate.OutcomeExecuted, start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second))
		}
	}
	at := start.Add(30 * time.Minute)
	for i := range 40 {
		emit("tickets.read", tollgate.OutcomeExecuted, at.Add(time.Duration(i)*time.Second))
	}
	for i := range 5 {
		emit("tickets.read", tollgate.OutcomeFailed, at.Add(time.Duration(40+i)*time.Second))
		emit("tickets.read", tollgate.OutcomeBlocked, at.Add(time.Duration(50+i)*time.Second))
	}
	emit("tickets.delete", tollgate.OutcomeExecuted, at.Add(59*time.Second))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

type jsonAlert struct {
	AlertType    string   `json:"alert_type"`
	AgentID      string   `json:"agent_id"`
	Tool         *string  `json:"tool"`
	Severity     string   `json:"severity"`
	Message      string   `json:"message"`
	ZScore       *float64 `json:"z_score"`
	CurrentRate  float64  `json:"current_rate"`
	BaselineRate float64  `json:"baseline_rate"`
	Timestamp    string   `json:"timestamp"`
}

func anomaliesJSON(t *testing.T, code int, args ...string) []jsonAlert {
	t.Helper()
	r := cli(t, nil, append([]string{"audit", "anomalies", "--format", "json"}, args...)...).want(t, code)
	var alerts []jsonAlert
	if err := json.Unmarshal([]byte(r.stdout), &alerts); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return alerts
}

func TestAnomaliesSyntheticLog(t *testing.T) {
	alerts := anomaliesJSON(t, exitFailed, writeSyntheticLog(t))
	var got []string
	for _, a := range alerts {
		tool := "null"
		if a.Tool != nil {
			tool = *a.Tool
		}
		got = append(got, a.AlertType+" "+a.AgentID+" "+tool+" "+a.Severity)
		if (a.ZScore == nil) != (a.AlertType == "unusual_tool") || a.Timestamp < "2026-02-05T03:30:00" || a.Message == "" {
			t.Errorf("alert %+v", a)
		}
	}
	want := []string{
		"rate_spike support-bot tickets.read medium",
		// Each fires on the event that first crosses z > 3, so below 2×z.
		"error_burst support-bot null medium",
		"deny_surge support-bot null high",
		"unusual_tool support-bot tickets.delete medium",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAnomaliesTollgateExampleLog(t *testing.T) {
	// Tollgate 1.4.0's own detector, on the wall clock, finds nothing in a
	// replayed log. By the records' times, demo-agent's ten fetch_data
	// calls at 03:48:42 stand out from the 17 minutes before them — once.
	alerts := anomaliesJSON(t, exitFailed, anomaliesHardened)
	if len(alerts) != 1 || alerts[0].AlertType != "rate_spike" || alerts[0].AgentID != "demo-agent" ||
		*alerts[0].Tool != "api:fetch_data" || alerts[0].Timestamp != "2026-02-05T03:48:42.745739Z" {
		t.Fatalf("alerts %+v, want demo-agent's one rate spike", alerts)
	}
	r := cli(t, nil, "audit", "anomalies", anomaliesHardened).want(t, exitFailed)
	golden(t, "anomalies_hardened.txt", r.stdout)
	if r.stderr != anomaliesHardened+": 1 alert(s) in 34 record(s)\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	// A higher threshold, or Tollgate's short examples: nothing, exit 0.
	cli(t, nil, "audit", "anomalies", anomaliesHardened, "--z", "10").want(t, exitOK)
	if alerts := anomaliesJSON(t, exitOK, "testdata/anomalies/mcp_minimal.audit.jsonl"); len(alerts) != 0 {
		t.Fatalf("alerts %+v, want an empty array", alerts)
	}
}

func TestAnomaliesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := mkfile(t, filepath.Join(dir, "bad.jsonl"), []byte("{\"timestamp\": \"yesterday\"}\n"))
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no file":          {nil, "takes one argument"},
		"missing file":     {[]string{filepath.Join(dir, "nope")}, "no such file"},
		"bad format":       {[]string{anomaliesHardened, "--format", "xml"}, "--format must be one of"},
		"window too short": {[]string{anomaliesHardened, "--window", "1m"}, "at least twice the baseline interval"},
		"bad z":            {[]string{anomaliesHardened, "--z", "-1"}, "must be positive"},
		"bad min samples":  {[]string{anomaliesHardened, "--min-samples", "1000"}, "between 2 and 100"},
		"bad duration":     {[]string{anomaliesHardened, "--window", "soon"}, "invalid argument"},
		"bad line":         {[]string{bad}, "line 1: \"timestamp\": want an ISO 8601 time"},
	} {
		t.Run(name, func(t *testing.T) {
			cli(t, nil, append([]string{"audit", "anomalies"}, c.args...)...).want(t, exitUsage).oneLineErr(t, c.want)
		})
	}
}
