package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/grants/grantstest"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

// openDB opens a fresh database file in a temporary directory and closes it
// when the test ends.
func openDB(t testing.TB, opts ...sqlitestore.Option) *sqlitestore.DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "tollgate.db"), opts...)
}

// openPath opens the database at path and closes it when the test ends.
func openPath(t testing.TB, path string, opts ...sqlitestore.Option) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformanceSQLiteGrants(t *testing.T) {
	grantstest.RunConformance(t, func(t *testing.T) grants.Store { return openDB(t).Grants() })
}

func TestConformanceSQLiteApprovals(t *testing.T) {
	approvalstest.RunConformance(t, func(t *testing.T) approvals.Store { return openDB(t).Approvals() })
}
