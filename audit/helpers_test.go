package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
)

var testTime = time.Date(2026, 2, 5, 3, 31, 26, 550942000, time.UTC)

// testEvent is a typical event; i makes its correlation id unique.
func testEvent(i int) *Event {
	return &Event{
		Timestamp:     testTime.Add(time.Duration(i) * time.Microsecond),
		CorrelationID: fmt.Sprintf("corr-%d", i),
		RequestHash:   "6198dfa749042d80e2710d405dc3b26be2ca675fa8801eb5f765cf7ec22991e3",
		Agent: tollgate.Agent{ID: "test-bot", Version: "1.0.0", Owner: "ops",
			Metadata: tollgate.Params{{Key: "environment", Value: "prod"}}},
		Intent: tollgate.Intent{Action: "demo", Reason: "testing"},
		ToolRequest: tollgate.ToolRequest{Tool: "mcp", Action: "read_file", ResourceType: "file",
			Effect: tollgate.EffectRead, Params: tollgate.Params{{Key: "path", Value: "test.txt"}, {Key: "limit", Value: json.Number("10")}},
			ManifestVersion: "1.0.0"},
		Decision:        tollgate.Decision{Type: tollgate.Allow, Reason: "Rule matched", PolicyID: "allow_read", PolicyVersion: "45e9d1ad"},
		Outcome:         tollgate.OutcomeExecuted,
		ResultSummary:   "ok",
		PolicyVersion:   "45e9d1ad",
		ManifestVersion: "1.0.0",
	}
}

var (
	sha256New = sha256.New
	hexString = hex.EncodeToString
)
