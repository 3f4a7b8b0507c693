package sqlitestore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/approvals"
)

// TestMigrationKeepsVersion1Decisions opens a database a version-1 build
// wrote: version 2 adds the decision list and approvals_required, and a
// request decided before the upgrade shows its one decision.
func TestMigrationKeepsVersion1Decisions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	decidedAt := time.Date(2026, 3, 1, 9, 30, 0, 123, time.UTC)
	expires := decidedAt.Add(time.Hour)
	const request = `{"agent":{"id":"hr-bot"},"intent":{},"tool_request":{"tool":"api:delete_user"}}`
	for _, q := range []string{
		string(v1),
		`CREATE TABLE tollgate_schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`,
		`INSERT INTO tollgate_schema_migrations VALUES (1, '0001_init.sql', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	insert := `INSERT INTO tollgate_approvals (id, request, binding_hash, expires_at, created_at, outcome, decided_by, note, decided_at) VALUES (?, ?, 'h', ?, 0, ?, ?, ?, ?)`
	if _, err := raw.Exec(insert, "old-decided", request, expires.UnixNano(), "approved", "alice", "checked", decidedAt.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(insert, "old-pending", request, expires.UnixNano(), "deferred", "", "", nil); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	s := openPath(t, path).Approvals()
	rec, err := s.Get(t.Context(), "old-decided")
	if err != nil {
		t.Fatal(err)
	}
	want := approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", Note: "checked", At: decidedAt}
	if len(rec.Decisions) != 1 || rec.Decisions[0].By != want.By || rec.Decisions[0].Outcome != want.Outcome ||
		rec.Decisions[0].Note != want.Note || !rec.Decisions[0].At.Equal(want.At) || rec.Request.Required() != 1 {
		t.Fatalf("migrated decided request: decisions %+v, required %d; want [%+v], 1", rec.Decisions, rec.Request.Required(), want)
	}
	pending, err := s.Get(t.Context(), "old-pending")
	if err != nil || len(pending.Decisions) != 0 || !pending.Pending() {
		t.Fatalf("migrated pending request: %+v, %v", pending, err)
	}
	if err := s.Decide(t.Context(), "old-pending", approvals.Decision{Outcome: approvals.OutcomeDenied, By: "bob", At: decidedAt}); err != nil {
		t.Fatalf("deciding a request made before the upgrade: %v", err)
	}
}
