package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
)

// migrationFiles holds the schema, one numbered file per version:
// migrations/0001_init.sql is version 1. A released file is never edited;
// a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// embeddedMigrations is the parsed schema history; its length is the
// schema version this build writes. Open upgrades older databases to it and
// refuses newer ones.
var embeddedMigrations = sync.OnceValues(func() ([]migration, error) { return loadMigrations(migrationFiles) })

// ErrNewerSchema is returned by Open for a database written by a newer
// build: its tables may mean things this build does not know, so using it
// could lose or misread state.
var ErrNewerSchema = errors.New("sqlitestore: database schema is newer than this build")

// loadMigrations reads migrations/NNNN_name.sql files, which must be
// numbered 1, 2, 3... without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	ms := make([]migration, 0, len(names)) // fs.Glob returns names sorted
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("sqlitestore: migration %s: want a name starting with %04d_", name, i+1)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(text)})
	}
	if len(ms) == 0 {
		return nil, errors.New("sqlitestore: no migrations embedded")
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS tollgate_schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`

// migrate brings the database to the newest version in one write transaction,
// so that processes opening the same new file at once apply each version
// exactly once, and a crash leaves either the old schema or the new one.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := embeddedMigrations()
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM tollgate_schema_migrations`).Scan(&current); err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("%w: %s is at version %d, this build knows up to %d; upgrade Tollgate or point it at another file",
				ErrNewerSchema, db.path, current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("sqlitestore: migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tollgate_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, clampNanos(db.now())); err != nil {
				return err
			}
		}
		return nil
	})
}
