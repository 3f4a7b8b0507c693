package metrics

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/anomaly"
	"github.com/tollgate-go/tollgate/audit"
)

func TestAnomalyAlertsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	hook, err := AnomalyHook(reg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := anomaly.New(anomaly.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), anomaly.WithHook(hook))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 2, 5, 3, 0, 0, 0, time.UTC)
	emit := func(tool string, at time.Time) {
		_ = d.Emit(context.Background(), &audit.Event{
			Timestamp: at, Agent: tollgate.Agent{ID: "support-bot"},
			ToolRequest: tollgate.ToolRequest{Tool: tool}, Outcome: tollgate.OutcomeExecuted,
		})
	}
	// The anomaly package's Example: a quiet baseline, a spike, a new tool.
	for m := range 20 {
		for i := range 2 + 2*(m%2) {
			emit("tickets.list", start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second))
		}
	}
	for i := range 60 {
		emit("tickets.list", start.Add(20*time.Minute+time.Duration(i)*time.Second))
	}
	emit("tickets.delete", start.Add(21*time.Minute))

	want := `
# HELP tollgate_anomaly_alerts_total Alerts raised by the anomaly detector, by type (rate_spike, error_burst, deny_surge, unusual_tool) and severity.
# TYPE tollgate_anomaly_alerts_total counter
tollgate_anomaly_alerts_total{alert_type="rate_spike",severity="medium"} 1
tollgate_anomaly_alerts_total{alert_type="unusual_tool",severity="medium"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), AnomalyAlerts); err != nil {
		t.Fatal(err)
	}
	if _, err := AnomalyHook(nil); err != ErrNoRegisterer {
		t.Errorf("AnomalyHook(nil) = %v, want ErrNoRegisterer", err)
	}
	if _, err := AnomalyHook(reg); err == nil {
		t.Error("registering the counter twice on one registry succeeded")
	}
}
