package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

// grantStore is DB.Grants.
type grantStore struct{ db *DB }

var _ grants.Store = grantStore{}

func scanGrant(row interface{ Scan(...any) error }) (grants.Grant, error) {
	var g grants.Grant
	var effect string
	var expires, created int64
	err := row.Scan(&g.ID, &g.AgentID, &effect, &g.Tool, &g.Action, &g.ResourceType, &expires, &created,
		&g.GrantedBy, &g.Reason, &g.MaxUses, &g.Uses, &g.Revoked)
	g.Effect = tollgate.Effect(effect)
	g.ExpiresAt, g.CreatedAt = time.Unix(0, expires), time.Unix(0, created)
	return g, err
}

// Create implements grants.Store.
func (s grantStore) Create(ctx context.Context, g grants.Grant) (grants.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, wrap("create grant", err)
	}
	if err := g.Validate(); err != nil {
		return grants.Grant{}, err
	}
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.db.now()
	}
	for _, t := range []time.Time{g.ExpiresAt, g.CreatedAt} {
		if !storable(t) {
			return grants.Grant{}, fmt.Errorf("%w: time %s is outside the years 1678 to 2262 the SQLite store can hold", grants.ErrInvalidGrant, t)
		}
	}
	g.Uses, g.Revoked = 0, false
	res, err := s.db.writer.ExecContext(ctx, `INSERT INTO tollgate_grants (`+grantColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT (id) DO NOTHING`,
		g.ID, g.AgentID, string(g.Effect), g.Tool, g.Action, g.ResourceType, g.ExpiresAt.UnixNano(), g.CreatedAt.UnixNano(),
		g.GrantedBy, g.Reason, g.MaxUses)
	if err != nil {
		return grants.Grant{}, wrap("create grant", err)
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return grants.Grant{}, wrap("create grant", err)
	case n == 0:
		return grants.Grant{}, fmt.Errorf("%w: %q", grants.ErrExists, g.ID)
	}
	return g, nil
}

// Consume implements grants.Store. The candidates are read and the winner's
// use counted inside one BEGIN IMMEDIATE transaction, so no other
// connection, in this process or another, can count a use in between.
func (s grantStore) Consume(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest, now time.Time) (grants.Grant, bool, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, false, wrap("consume grant", err)
	}
	if now.IsZero() {
		return grants.Grant{}, false, grants.ErrZeroTime
	}
	var won grants.Grant
	var found bool
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if won, found, err = s.firstMatch(ctx, tx, &agent, &req, now); err != nil || !found {
			return err
		}
		_, err = tx.StmtContext(ctx, s.db.stmt.grantUse).ExecContext(ctx, won.ID)
		return err
	})
	if err != nil || !found {
		return grants.Grant{}, false, wrap("consume grant", err)
	}
	won.Uses++
	return won, true, nil
}

// firstMatch returns the first live grant, in grants.Compare order, that
// covers the call. SQL narrows the candidates; Grant.Matches and
// Grant.Active, shared with every backend, have the final word.
func (s grantStore) firstMatch(ctx context.Context, tx *sql.Tx, agent *tollgate.Agent, req *tollgate.ToolRequest, now time.Time) (grants.Grant, bool, error) {
	rows, err := tx.StmtContext(ctx, s.db.stmt.grantCandidates).QueryContext(ctx,
		agent.ID, clampNanos(now), string(req.Effect), req.Action, req.ResourceType)
	if err != nil {
		return grants.Grant{}, false, err
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return grants.Grant{}, false, err
		}
		if g.Matches(*agent, *req) && g.Active(now) {
			return g, true, rows.Close()
		}
	}
	return grants.Grant{}, false, rows.Err()
}

// Revoke implements grants.Store.
func (s grantStore) Revoke(ctx context.Context, id string) (bool, error) {
	res, err := s.db.writer.ExecContext(ctx, `UPDATE tollgate_grants SET revoked = 1 WHERE id = ? AND revoked = 0`, id)
	if err != nil {
		return false, wrap("revoke grant", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("revoke grant", err)
}

// Get implements grants.Store.
func (s grantStore) Get(ctx context.Context, id string) (grants.Grant, bool, error) {
	g, err := scanGrant(s.db.stmt.grantGet.QueryRowContext(ctx, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return grants.Grant{}, false, nil
	case err != nil:
		return grants.Grant{}, false, wrap("get grant", err)
	}
	return g, true, nil
}

// List implements grants.Store.
func (s grantStore) List(ctx context.Context, f grants.Filter) ([]grants.Grant, error) {
	if !f.IncludeInactive && f.Now.IsZero() {
		return nil, fmt.Errorf("%w (Filter.Now is required unless IncludeInactive is set)", grants.ErrZeroTime)
	}
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+grantColumns+` FROM tollgate_grants
		WHERE (?1 = '' OR agent_id = ?1)
		  AND (?2 OR (revoked = 0 AND expires_at > ?3 AND (max_uses = 0 OR uses < max_uses)))
		ORDER BY created_at, id`,
		f.AgentID, f.IncludeInactive, clampNanos(f.Now))
	if err != nil {
		return nil, wrap("list grants", err)
	}
	defer rows.Close()
	var out []grants.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, wrap("list grants", err)
		}
		out = append(out, g)
	}
	return out, wrap("list grants", rows.Err())
}

// CleanupExpired implements grants.Store.
func (s grantStore) CleanupExpired(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		return 0, grants.ErrZeroTime
	}
	res, err := s.db.writer.ExecContext(ctx, `DELETE FROM tollgate_grants WHERE expires_at <= ?`, clampNanos(now))
	if err != nil {
		return 0, wrap("clean up grants", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("clean up grants", err)
}
