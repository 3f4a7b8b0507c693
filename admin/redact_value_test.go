package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
)

// Every way an approval leaves the process — the admin API, Watch, the
// webhook and so `tollgate approvals show` — renders it with
// approvalMessage, which redacts secrets by value as well as by key name,
// in params and in the intent reason.
func TestApprovalMessageRedactsByValue(t *testing.T) {
	rec := approvals.Record{Request: approvals.Request{
		ID:     "a-1",
		Intent: tollgate.Intent{Action: "migrate", Reason: "use postgres://admin:S3cretPw@db/prod"},
		ToolRequest: tollgate.ToolRequest{Tool: "db:run", Params: tollgate.Params{
			{Key: "db_url", Value: "postgres://admin:S3cretPw@db/prod"},
			{Key: "auth", Value: "Basic YWRtaW46aHVudGVyMg=="},
		}},
	}}
	msg := approvalMessage(rec, time.Now(), audit.DefaultRedactor)
	for what, got := range map[string]string{"params": msg.GetToolRequest().GetParamsJson(), "intent reason": msg.GetIntent().GetReason()} {
		if strings.Contains(got, "S3cretPw") || strings.Contains(got, "YWRtaW46aHVudGVyMg") {
			t.Errorf("%s leak a secret: %s", what, got)
		}
		if !strings.Contains(got, "postgres://admin:[REDACTED]@db/prod") {
			t.Errorf("%s: %s", what, got)
		}
	}
}
