package sqlitestore

import (
	"math"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
)

func TestOpenSetsDurablePragmas(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "p.db"), WithBusyTimeout(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	for _, c := range []struct {
		pool         string
		pragma, want string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "1500"},
		{"reader", "journal_mode", "wal"},
		{"reader", "synchronous", "2"},
		{"reader", "query_only", "1"},
		{"reader", "busy_timeout", "1500"},
	} {
		pool := db.writer
		if c.pool == "reader" {
			pool = db.reader
		}
		var got string
		if err := pool.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s: PRAGMA %s = %q, %v; want %q", c.pool, c.pragma, got, err, c.want)
		}
	}
	if _, err := db.reader.ExecContext(ctx, `DELETE FROM tollgate_grants`); err == nil {
		t.Error("the read-only pool accepted a write")
	}
}

func TestLoadMigrationsRefusesBadSets(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("CREATE TABLE t (x INTEGER);")}
	for name, fsys := range map[string]fstest.MapFS{
		"empty":        {},
		"gap":          {"migrations/0001_a.sql": sql, "migrations/0003_c.sql": sql},
		"not numbered": {"migrations/init.sql": sql},
		"no name":      {"migrations/0001.sql": sql},
		"from zero":    {"migrations/0000_a.sql": sql},
	} {
		if ms, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations = %d migrations, want an error", name, len(ms))
		}
	}
	ms, err := loadMigrations(fstest.MapFS{"migrations/0002_b.sql": sql, "migrations/0001_a.sql": sql})
	if err != nil || len(ms) != 2 || ms[0].name != "0001_a.sql" || ms[1].version != 2 {
		t.Errorf("loadMigrations = %+v, %v; want versions 1 and 2 in order", ms, err)
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := embeddedMigrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("embedded migrations: %d, %v", len(ms), err)
	}
}

func TestClampNanos(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 42), 42},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{time.Time{}, math.MinInt64},
	} {
		if got := clampNanos(c.t); got != c.want {
			t.Errorf("clampNanos(%v) = %d, want %d", c.t, got, c.want)
		}
	}
	if storable(time.Date(2262, 5, 1, 0, 0, 0, 0, time.UTC)) || !storable(time.Date(2262, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("storable: wrong upper bound")
	}
}

func TestNotifierKeepsNewerWatchOnStaleRelease(t *testing.T) {
	var n notifier
	first, releaseFirst := n.watch("a")
	n.notify("a")
	select {
	case <-first:
	default:
		t.Fatal("notify did not close the watch")
	}
	second, releaseSecond := n.watch("a")
	defer releaseSecond()
	releaseFirst() // must not unregister the second watch
	n.notify("a")
	select {
	case <-second:
	default:
		t.Fatal("a release of an old watch dropped the new one")
	}
	n.notify("never-watched") // no waiter: nothing to do, nothing to fail
}

func TestNotifierReleaseForgetsIdleIDs(t *testing.T) {
	var n notifier
	_, r1 := n.watch("a")
	_, r2 := n.watch("a")
	r1()
	if len(n.byID) != 1 {
		t.Fatalf("after one of two releases: %d ids watched, want 1", len(n.byID))
	}
	r2()
	if len(n.byID) != 0 {
		t.Fatalf("after both releases: %d ids watched, want 0", len(n.byID))
	}
}

// FuzzRequestCodec checks that every params object tollgate.ParseParams
// accepts is stored and read back with the same binding hash.
func FuzzRequestCodec(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a":1,"b":"x"}`, `{"n":1.0,"m":1e400,"s":"\u00fc\ud83d\ude00"}`,
		`{"deep":{"x":[1,[2,{"y":null}]],"t":true,"f":false}}`, `{"z":1,"a":2}`, `{"":""}`,
	} {
		f.Add([]byte(seed))
	}
	noRedaction := audit.NewRedactor()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := tollgate.ParseParams(data)
		if err != nil {
			return
		}
		r := approvals.Request{ID: "id", ToolRequest: tollgate.ToolRequest{Tool: "t", Params: p}, ExpiresAt: time.Unix(1, 0)}
		enc, err := encodeRequest(r, noRedaction)
		if err != nil {
			t.Fatalf("encodeRequest(%s): %v", data, err)
		}
		got, err := decodeRequest(enc, r.ID, r.ExpiresAt)
		if err != nil {
			t.Fatalf("decodeRequest(%s): %v", enc, err)
		}
		if approvals.BindingHash(got.Agent, got.Intent, got.ToolRequest) != approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest) {
			t.Fatalf("binding changed through %s", enc)
		}
	})
}
