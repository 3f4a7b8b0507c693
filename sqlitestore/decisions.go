package sqlitestore

import (
	"encoding/json"
	"time"

	"github.com/tollgate-go/tollgate/approvals"
)

// storedDecision is one element of the decisions column (a JSON array).
// Its field names are a stored format, also written by migration 0002.
type storedDecision struct {
	By      string `json:"by"`
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
	At      int64  `json:"at"` // Unix nanoseconds
}

func encodeDecisions(list []approvals.Decision) ([]byte, error) {
	out := make([]storedDecision, len(list))
	for i, d := range list {
		out[i] = storedDecision{By: d.By, Outcome: string(d.Outcome), Note: d.Note, At: d.At.UnixNano()}
	}
	return json.Marshal(out)
}

func decodeDecisions(data []byte) ([]approvals.Decision, error) {
	var in []storedDecision
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]approvals.Decision, len(in))
	for i, d := range in {
		out[i] = approvals.Decision{By: d.By, Outcome: approvals.Outcome(d.Outcome), Note: d.Note, At: time.Unix(0, d.At)}
	}
	return out, nil
}
