package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-go/tollgate/killswitch"
)

// KillSwitchStore is the killswitch.Store kept in a DB (DB.KillSwitches).
// Its Matcher answers from a killswitch.Mirror of the table: a switch set
// or lifted through this store is in it when the call returns; one set by
// another process sharing the file is read at the next resync, which Run
// performs (every killswitch.DefaultResyncInterval unless
// killswitch.WithResyncInterval says otherwise). Run must be running for
// the Matcher to stay fresh: once the table has not been read for the
// staleness bound, Matcher fails with killswitch.ErrStale and a Tower
// refuses every call.
type KillSwitchStore struct {
	db     *DB
	mirror *killswitch.Mirror
}

var _ killswitch.Store = (*KillSwitchStore)(nil)

// KillSwitches returns a kill switch store over the database, with a
// Mirror configured by opts (killswitch.WithResyncInterval,
// WithMaxStaleness, WithClock). It reads the table once before returning,
// so that its Matcher is ready; keep one per process and start its Run.
func (db *DB) KillSwitches(ctx context.Context, opts ...killswitch.Option) (*KillSwitchStore, error) {
	s := &KillSwitchStore{db: db}
	m, err := killswitch.NewMirror(s.load, opts...)
	if err != nil {
		return nil, err
	}
	s.mirror = m
	if err := m.Sync(ctx); err != nil {
		return nil, wrap("kill switches", err)
	}
	return s, nil
}

const killSwitchColumns = `id, scope, reason, set_by, set_at, expires_at`

// Set implements killswitch.Store. Expired switches are deleted in the
// same transaction.
func (s *KillSwitchStore) Set(ctx context.Context, sw killswitch.Switch) (killswitch.Switch, error) {
	if err := ctx.Err(); err != nil {
		return killswitch.Switch{}, wrap("set kill switch", err)
	}
	now := s.db.now()
	if sw.SetAt.IsZero() {
		sw.SetAt = now
	}
	if err := sw.Validate(); err != nil {
		return killswitch.Switch{}, err
	}
	for _, t := range []time.Time{sw.SetAt, sw.ExpiresAt} {
		if !t.IsZero() && !storable(t) {
			return killswitch.Switch{}, fmt.Errorf("%w: time %s is outside the years 1678 to 2262 the SQLite store can hold", killswitch.ErrInvalidSwitch, t)
		}
	}
	if sw.ID == "" {
		sw.ID = uuid.NewString()
	}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tollgate_kill_switches WHERE expires_at <= ?`, clampNanos(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO tollgate_kill_switches (`+killSwitchColumns+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, sw.ID, sw.Scope.String(), sw.Reason, sw.SetBy, sw.SetAt.UnixNano(), nullNanos(sw.ExpiresAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = fmt.Errorf("%w: %q", killswitch.ErrExists, sw.ID)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return killswitch.Switch{}, wrap("set kill switch", err)
	}
	s.resync(ctx)
	return sw, nil
}

// Lift implements killswitch.Store.
func (s *KillSwitchStore) Lift(ctx context.Context, id string) (killswitch.Switch, bool, error) {
	if err := ctx.Err(); err != nil {
		return killswitch.Switch{}, false, wrap("lift kill switch", err)
	}
	var sw killswitch.Switch
	var found bool
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM tollgate_kill_switches WHERE id = ? RETURNING `+killSwitchColumns, id)
		if err != nil {
			return err
		}
		list, err := scanKillSwitches(rows)
		if len(list) > 0 {
			sw, found = list[0], true
		}
		return err
	})
	if err != nil {
		return killswitch.Switch{}, false, wrap("lift kill switch", err)
	}
	if found {
		s.resync(ctx)
	}
	return sw, found, nil
}

// List implements killswitch.Store.
func (s *KillSwitchStore) List(ctx context.Context, now time.Time) ([]killswitch.Switch, error) {
	if now.IsZero() {
		return nil, killswitch.ErrZeroTime
	}
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+killSwitchColumns+` FROM tollgate_kill_switches
		WHERE expires_at IS NULL OR expires_at > ? ORDER BY set_at, id`, clampNanos(now))
	if err != nil {
		return nil, wrap("list kill switches", err)
	}
	list, err := scanKillSwitches(rows)
	return list, wrap("list kill switches", err)
}

// Matcher implements killswitch.Source.
func (s *KillSwitchStore) Matcher() (*killswitch.Matcher, error) { return s.mirror.Matcher() }

// Sync reads the table into the Matcher now.
func (s *KillSwitchStore) Sync(ctx context.Context) error { return s.mirror.Sync(ctx) }

// Run keeps the Matcher fresh, reading the table every resync interval,
// until ctx ends (see killswitch.Mirror.Run).
func (s *KillSwitchStore) Run(ctx context.Context, onError func(error)) error {
	return s.mirror.Run(ctx, onError)
}

// resync brings a change this store made into its Matcher. Should the
// read fail, the Mirror keeps its older state, which Run refreshes or
// which grows stale and fails closed.
func (s *KillSwitchStore) resync(ctx context.Context) { _ = s.mirror.Sync(ctx) }

func (s *KillSwitchStore) load(ctx context.Context) ([]killswitch.Switch, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+killSwitchColumns+` FROM tollgate_kill_switches`)
	if err != nil {
		return nil, err
	}
	return scanKillSwitches(rows)
}

// scanKillSwitches reads and closes rows. A scope this build cannot parse
// is an error: dropping it would silently lift a switch.
func scanKillSwitches(rows *sql.Rows) ([]killswitch.Switch, error) {
	defer rows.Close()
	var list []killswitch.Switch
	for rows.Next() {
		var sw killswitch.Switch
		var scope string
		var setAt int64
		var expires sql.NullInt64
		if err := rows.Scan(&sw.ID, &scope, &sw.Reason, &sw.SetBy, &setAt, &expires); err != nil {
			return nil, err
		}
		sc, err := killswitch.ParseScope(scope)
		if err != nil {
			return nil, fmt.Errorf("kill switch %q: %w", sw.ID, err)
		}
		sw.Scope, sw.SetAt, sw.ExpiresAt = sc, time.Unix(0, setAt), fromNanos(expires)
		list = append(list, sw)
	}
	return list, rows.Err()
}
