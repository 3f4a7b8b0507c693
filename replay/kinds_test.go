package replay

import (
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// Records of configuration changes (tower.Watch) describe no call and are
// not replayed.
func TestRunSkipsConfigRecords(t *testing.T) {
	loaded := &audit.Event{Kind: audit.KindConfigLoaded, Timestamp: time.Unix(1_800_000_000, 0),
		Config: &audit.ConfigChange{Files: []audit.ConfigFile{{Role: "policy", Path: "p.yaml", SHA256: "00"}}}}
	rejected := &audit.Event{Kind: audit.KindConfigRejected, Timestamp: time.Unix(1_800_000_001, 0),
		Config: &audit.ConfigChange{File: "p.yaml", Line: 3, Reason: "bad"}}
	events := append([]*audit.Event{loaded}, pair("a", tollgate.Allow, "allow_reads")...)
	events = append(events, rejected)
	s, calls := runFile(t, replayer(t, candidate, ""), writeLog(t, events...))
	if s.Lines != 4 || s.Total != 1 || statuses(calls) != "a=unchanged" {
		t.Errorf("summary %+v, calls %s", s, statuses(calls))
	}
}
