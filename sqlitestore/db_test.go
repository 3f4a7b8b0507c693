package sqlitestore_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

// rawDB opens the file with the driver directly, to inspect or damage what
// the store wrote.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		path string
		opts []sqlitestore.Option
		want string
	}{
		"empty path":          {"", nil, "want a database file path"},
		"in-memory":           {":memory:", nil, "in-memory state does not survive a restart"},
		"zero poll interval":  {filepath.Join(dir, "a.db"), []sqlitestore.Option{sqlitestore.WithPollInterval(0)}, "poll interval"},
		"negative busy":       {filepath.Join(dir, "b.db"), []sqlitestore.Option{sqlitestore.WithBusyTimeout(-time.Second)}, "busy timeout"},
		"missing directory":   {filepath.Join(dir, "no", "such", "dir", "c.db"), nil, "open"},
		"directory, not file": {dir, nil, "open"},
	} {
		db, err := sqlitestore.Open(c.path, c.opts...)
		if err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", name, err, c.want)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	db, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := rawDB(t, path).Exec(`INSERT INTO tollgate_schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db, err = sqlitestore.Open(path)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database from a newer build")
	}
	if !errors.Is(err, sqlitestore.ErrNewerSchema) || !strings.Contains(err.Error(), "version 999") || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v; want ErrNewerSchema naming the file and its version", err)
	}
}

func TestReopenKeepsStateAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	now := time.Now()
	db, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := db.Grants().Create(t.Context(), grants.Grant{ID: "g", ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	got, found, err := openPath(t, path).Grants().Get(t.Context(), g.ID)
	if err != nil || !found || !got.ExpiresAt.Equal(g.ExpiresAt) || !got.CreatedAt.Equal(g.CreatedAt) {
		t.Fatalf("after reopening: %+v, %v, %v; want %+v", got, found, err, g)
	}
	var versions int
	if err := rawDB(t, path).QueryRow(`SELECT COUNT(*) FROM tollgate_schema_migrations WHERE version = 1`).Scan(&versions); err != nil || versions != 1 {
		t.Errorf("version 1 recorded %d times, %v; want once", versions, err)
	}
}

func TestConcurrentOpensOfANewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			db, err := sqlitestore.Open(path)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%25e")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x?y.db")
	db := openPath(t, path)
	if _, err := db.Grants().Create(t.Context(), grants.Grant{ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

func TestCloseMakesLaterCallsFail(t *testing.T) {
	db, err := sqlitestore.Open(filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Grants().Create(t.Context(), grants.Grant{ExpiresAt: time.Now().Add(time.Hour)}); err == nil {
		t.Error("Create on a closed DB succeeded")
	}
	if _, err := db.Approvals().List(t.Context(), false); err == nil {
		t.Error("List on a closed DB succeeded")
	}
}
