package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-go/tollgate/anomaly"
)

// AnomalyAlerts counts the alerts of an anomaly.Detector; see AnomalyHook.
const AnomalyAlerts = "tollgate_anomaly_alerts_total"

// AnomalyHook registers tollgate_anomaly_alerts_total{alert_type, severity}
// on reg and returns the hook that counts into it: pass it to the detector
// with anomaly.WithHook. Both labels come from the detector's fixed sets;
// the agent and tool of an alert are never labels (they are in its log line
// and webhook body).
func AnomalyHook(reg prometheus.Registerer) (func(anomaly.Alert), error) {
	if reg == nil {
		return nil, ErrNoRegisterer
	}
	alerts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: AnomalyAlerts,
		Help: "Alerts raised by the anomaly detector, by type (rate_spike, error_burst, deny_surge, unusual_tool) and severity.",
	}, []string{"alert_type", "severity"})
	if err := reg.Register(alerts); err != nil {
		return nil, err
	}
	return func(a anomaly.Alert) {
		alerts.WithLabelValues(string(a.Type), string(a.Severity)).Inc()
	}, nil
}
