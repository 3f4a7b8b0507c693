package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

// Deferred approvals through a real Tower, stored in SQLite: approved
// retries run once (also when 50 race), other calls are refused.
func TestDeferredConformanceSQLite(t *testing.T) {
	approvalstest.RunDeferredConformance(t, func(t *testing.T) approvals.Store {
		db, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tollgate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Approvals()
	})
}
