package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate/anomaly"
	"github.com/tollgate-go/tollgate/audit"
)

func (a *app) auditAnomaliesCmd() *cobra.Command {
	var (
		window, interval, cooldown time.Duration
		z                          float64
		minSamples                 int
		format                     string
	)
	cmd := &cobra.Command{
		Use:   "anomalies FILE [--window 5m] [--z 3] [--min-samples 10] [--baseline-interval 1m] [--format text|json]",
		Short: "Find rate spikes, error bursts, deny surges and unusual tools in an audit log (exit 0 none, 1 some, 2 error)",
		Long: `anomalies runs the anomaly detector (package anomaly) over an audit log —
this gateway's or Tollgate 1.4.0's — by each record's own timestamp, and prints
the alerts it raises:

  rate_spike    an agent calls a tool far more often than its baseline
  error_burst   an agent's calls fail far more often than its baseline
  deny_surge    an agent is refused (blocked, approval_denied) far more
                often than its baseline
  unusual_tool  an agent calls a tool for the first time (not its first tool)

Each agent:tool series, and each agent's errors and denials, is counted per
baseline interval; a rate is the count over the window, and every interval the
window's count becomes a baseline sample (the last 100 are kept). A series
alerts when (current - mean) / stddev exceeds --z, once it has --min-samples
samples; the same alert then stays quiet for --cooldown. The window must be a
whole number, at least 2, of baseline intervals.

Each call counts once: "authorized" records (the outcome record follows) and
records with a kind (configuration, checkpoints) are skipped.

Formats: text (one line per alert, then a summary on stderr), json (an array
of alerts with Tollgate's AnomalyAlert keys: alert_type, agent_id, tool,
severity, message, z_score, current_rate, baseline_rate, timestamp).

Exit codes: 0 no alert, 1 at least one alert, 2 usage error or a bad file
(the file and line, and what is wrong).`,
		Example: `  tollgate audit anomalies audit.jsonl
  tollgate audit anomalies audit.jsonl --window 10m --baseline-interval 1m --z 4 --format json`,
		Args: args(1, "one argument, the audit log"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := oneOf(cmd, "format", format, "text", "json"); err != nil {
				return err
			}
			var alerts []anomaly.Alert
			opts := []anomaly.Option{
				anomaly.WithWindow(window), anomaly.WithBaselineInterval(interval), anomaly.WithZScore(z),
				anomaly.WithMinSamples(minSamples),
				anomaly.WithLogger(slog.New(slog.DiscardHandler)),
				anomaly.WithHook(func(al anomaly.Alert) { alerts = append(alerts, al) }),
			}
			if cmd.Flags().Changed("cooldown") {
				opts = append(opts, anomaly.WithCooldown(cooldown))
			}
			d, err := anomaly.New(opts...)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			path := argv[0]
			f, _, err := openLog(path)
			if err != nil {
				return err
			}
			defer f.Close()
			calls := 0
			err = audit.Read(f, func(rec *audit.Record) error {
				if rec.Kind == "" {
					calls++
				}
				return d.Emit(context.Background(), &rec.Event)
			})
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if format == "json" {
				err = writeAlertsJSON(a.stdout, alerts)
			} else {
				writeAlertsText(a.stdout, alerts)
				fmt.Fprintf(a.stderr, "%s: %d alert(s) in %d record(s)\n", path, len(alerts), calls)
			}
			if err != nil {
				return err
			}
			if len(alerts) > 0 {
				return exit(exitFailed)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&window, "window", 5*time.Minute, "how far back the current rate looks (a whole number of baseline intervals)")
	fl.Float64Var(&z, "z", 3, "alert when the rate is more than this many standard deviations above the baseline")
	fl.IntVar(&minSamples, "min-samples", 10, "baseline samples a series needs before it can alert (2-100)")
	fl.DurationVar(&interval, "baseline-interval", time.Minute, "how often each series' rate is sampled into its baseline")
	fl.DurationVar(&cooldown, "cooldown", 0, "how long the same alert stays quiet after firing (default: the window)")
	fl.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func writeAlertsText(w io.Writer, alerts []anomaly.Alert) {
	for _, al := range alerts {
		fmt.Fprintf(w, "%s %-8s %-12s %s\n", al.Timestamp.UTC().Format(time.RFC3339Nano), al.Severity, al.Type, al.Message)
	}
}

func writeAlertsJSON(w io.Writer, alerts []anomaly.Alert) error {
	if alerts == nil {
		alerts = []anomaly.Alert{}
	}
	b, err := json.MarshalIndent(alerts, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
