package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DB is one SQLite database file holding grants, approval requests and the
// token replay cache. It is safe for concurrent use, and several processes
// may open the same file: every read-modify-write runs in one
// BEGIN IMMEDIATE transaction, which SQLite serialises across processes.
type DB struct {
	path    string
	cfg     config
	writer  *sql.DB // one connection: SQLite allows one writer at a time
	reader  *sql.DB // read-only connections; WAL lets them run beside the writer
	stmt    statements
	waiters notifier
}

// maxReaders bounds the read-only connections. Reads are short (a primary
// key lookup or a small scan), so a few connections serve many goroutines.
const maxReaders = 4

// Open opens (creating if needed) the database file at path and brings its
// schema up to date. It refuses a file written by a newer build
// (ErrNewerSchema). Close the DB when done.
//
// The file is put in WAL mode with synchronous=FULL: a transaction that
// returned is on disk, so a grant use or a consumed approval survives a
// crash or power loss and can never be handed out twice. State must
// survive restarts, so in-memory databases (":memory:") are refused; use
// grants.NewMemory and approvals.NewMemoryStore instead. A new file is
// created with mode 0600, and so are its -wal and -shm files.
func Open(path string, opts ...Option) (*DB, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pollInterval <= 0 {
		return nil, fmt.Errorf("sqlitestore: poll interval %v must be positive", cfg.pollInterval)
	}
	if cfg.busyTimeout < 0 {
		return nil, fmt.Errorf("sqlitestore: busy timeout %v must not be negative", cfg.busyTimeout)
	}
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlitestore: path %q: want a database file path; in-memory state does not survive a restart (use the memory stores for that)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: path %q: %w", path, err)
	}

	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	db := &DB{path: abs, cfg: cfg}
	if db.writer, err = sql.Open("sqlite", dsn(abs, cfg, false)); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	// The writer creates the file, switches it to WAL and migrates it
	// before any reader connects.
	if err := db.migrate(context.Background()); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	if db.reader, err = sql.Open("sqlite", dsn(abs, cfg, true)); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	db.reader.SetMaxOpenConns(maxReaders)
	db.reader.SetMaxIdleConns(maxReaders)
	if err := db.prepare(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	return db, nil
}

// createPrivate creates the database file with mode 0600 when it does not
// exist yet. SQLite would create it 0644 (less the umask), readable by
// every local user, and it holds approval requests with their params and
// the grants; SQLite gives the -wal and -shm files it creates later the
// database file's mode, so they are private too. An existing file keeps
// the mode its owner gave it.
func createPrivate(abs string) error {
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close() // an empty file is an empty database to SQLite
}

// dsn builds the modernc.org/sqlite connection string for the file at abs.
// The path goes through url.URL so that characters such as '?' and '#'
// stay part of the file name.
func dsn(abs string, cfg config, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_journal_mode", "WAL") // persistent: readers inherit it
		q.Set("_txlock", "immediate") // take the write lock at BEGIN, not at the first write
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if u.Path[0] != '/' { // a Windows volume path: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String()
}

// Close closes the database. Calls in flight may fail; later calls do.
func (db *DB) Close() error {
	return errors.Join(db.stmt.close(), db.reader.Close(), db.writer.Close())
}

// Grants returns the grants.Store kept in this database.
func (db *DB) Grants() grants.Store { return grantStore{db} }

// Approvals returns the approvals.Store kept in this database.
func (db *DB) Approvals() approvals.Store { return approvalStore{db} }

// ReplayCache returns the identity.ReplayCache kept in this database.
func (db *DB) ReplayCache() identity.ReplayCache { return replayCache{db} }

func (db *DB) now() time.Time { return db.cfg.clock() }

// write runs fn in one write transaction (BEGIN IMMEDIATE, see dsn) and
// commits it when fn returns nil; any error rolls everything back.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that made us roll back is the one to report
		return err
	}
	return tx.Commit()
}

// wrap prefixes an error with the failed operation; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}
