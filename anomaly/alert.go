package anomaly

import (
	"encoding/json"
	"strconv"
	"time"
)

// Type is the kind of an alert, spelt as Tollgate spells it.
type Type string

// Tollgate's four alert types.
const (
	RateSpike   Type = "rate_spike"   // one agent calls one tool far more often than its baseline
	ErrorBurst  Type = "error_burst"  // one agent's calls fail far more often than its baseline
	DenySurge   Type = "deny_surge"   // one agent is refused far more often than its baseline
	UnusualTool Type = "unusual_tool" // an agent calls a tool for the first time
)

// Severity grades an alert. Tollgate defines low but never produces it.
type Severity string

// Severities, lowest first.
const (
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Alert is one detected anomaly. Its JSON form has Tollgate's AnomalyAlert
// keys: tool is null for error_burst and deny_surge, z_score null for
// unusual_tool; timestamp is the triggering event's time (RFC 3339, UTC).
type Alert struct {
	Type     Type
	AgentID  string
	Tool     string // empty for ErrorBurst and DenySurge
	Severity Severity
	Message  string
	// ZScore is how many standard deviations the current rate is above the
	// baseline; 0 for UnusualTool (null in JSON).
	ZScore float64
	// CurrentRate and BaselineRate are events per second over the window:
	// now and the baseline's mean.
	CurrentRate  float64
	BaselineRate float64
	// Timestamp is the time of the event that raised the alert.
	Timestamp time.Time
}

// MarshalJSON writes the alert with Tollgate's keys, in Tollgate's order.
func (a Alert) MarshalJSON() ([]byte, error) {
	var tool *string
	if a.Tool != "" && a.Type != ErrorBurst && a.Type != DenySurge {
		tool = &a.Tool
	}
	var z *float64
	if a.Type != UnusualTool {
		z = &a.ZScore
	}
	return json.Marshal(struct {
		AlertType    Type     `json:"alert_type"`
		AgentID      string   `json:"agent_id"`
		Tool         *string  `json:"tool"`
		Severity     Severity `json:"severity"`
		Message      string   `json:"message"`
		ZScore       *float64 `json:"z_score"`
		CurrentRate  float64  `json:"current_rate"`
		BaselineRate float64  `json:"baseline_rate"`
		Timestamp    string   `json:"timestamp"`
	}{a.Type, a.AgentID, tool, a.Severity, a.Message, z, a.CurrentRate, a.BaselineRate,
		a.Timestamp.UTC().Format(time.RFC3339Nano)})
}

// severity grades a z-score as Tollgate does: one step up past twice the
// threshold; deny surges start a step higher.
func severity(t Type, z, threshold float64) Severity {
	base, up := Medium, High
	if t == DenySurge {
		base, up = High, Critical
	}
	if z > 2*threshold {
		return up
	}
	return base
}

// rateMessage is Tollgate's message for the three z-score alerts.
func rateMessage(t Type, agent, tool string, cur, base, z float64) string {
	var b []byte
	switch t {
	case RateSpike:
		b = append(b, "Rate spike for "+agent+"/"+tool...)
	case ErrorBurst:
		b = append(b, "Error burst for "+agent...)
	default:
		b = append(b, "Deny surge for "+agent...)
	}
	b = append(b, ": "...)
	b = strconv.AppendFloat(b, cur, 'f', 2, 64)
	b = append(b, "/s (baseline: "...)
	b = strconv.AppendFloat(b, base, 'f', 2, 64)
	b = append(b, "/s, z-score: "...)
	b = strconv.AppendFloat(b, z, 'f', 1, 64)
	return string(append(b, ')'))
}
