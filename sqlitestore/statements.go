package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
)

// statements are the queries on the hot paths (consuming grants, approvals
// and tokens, and the reads Wait polls with), prepared once so that no
// call pays for parsing SQL. Writer statements live on the single writer
// connection and join a transaction through Tx.StmtContext.
type statements struct {
	grantCandidates, grantUse         *sql.Stmt
	approvalState, approvalUse        *sql.Stmt
	approvalForUpdate, approvalDecide *sql.Stmt
	replayPrune, replayMark           *sql.Stmt
	grantGet, approvalGet             *sql.Stmt // on the reader pool
}

const (
	grantColumns    = `id, agent_id, effect, tool, action, resource_type, expires_at, created_at, granted_by, reason, max_uses, uses, revoked`
	approvalColumns = `id, request, binding_hash, expires_at, created_at, outcome, decided_by, note, decided_at, used_at, approvals_required, decisions`
)

func (db *DB) prepare(ctx context.Context) error {
	for _, s := range []struct {
		dst   **sql.Stmt
		pool  *sql.DB
		query string
	}{
		// Live grants that may cover the call, in grants.Compare order. SQL
		// narrows by the exact-match fields; Grant.Matches has the final
		// word (tool prefixes).
		{&db.stmt.grantCandidates, db.writer, `SELECT ` + grantColumns + ` FROM tollgate_grants
			WHERE agent_id IN ('', ?1) AND revoked = 0 AND expires_at > ?2 AND (max_uses = 0 OR uses < max_uses)
			  AND effect IN ('', ?3) AND action IN ('', ?4) AND resource_type IN ('', ?5)
			ORDER BY created_at, id`},
		{&db.stmt.grantUse, db.writer, `UPDATE tollgate_grants SET uses = uses + 1 WHERE id = ?`},
		{&db.stmt.approvalState, db.writer, `SELECT binding_hash, outcome, decided_by, expires_at, used_at FROM tollgate_approvals WHERE id = ?`},
		{&db.stmt.approvalForUpdate, db.writer, `SELECT ` + approvalColumns + ` FROM tollgate_approvals WHERE id = ?`},
		{&db.stmt.approvalDecide, db.writer, `UPDATE tollgate_approvals SET outcome = ?, decided_by = ?, note = ?, decided_at = ?, decisions = ? WHERE id = ?`},
		{&db.stmt.approvalUse, db.writer, `UPDATE tollgate_approvals SET used_at = ? WHERE id = ?`},
		// Forget a bounded batch of expired tokens per call.
		{&db.stmt.replayPrune, db.writer, `DELETE FROM tollgate_token_replay WHERE jti IN
			(SELECT jti FROM tollgate_token_replay WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`},
		// Record a token, or renew an expired entry; a live entry is left
		// alone, which makes RowsAffected 0: a replay.
		{&db.stmt.replayMark, db.writer, `INSERT INTO tollgate_token_replay (jti, expires_at) VALUES (?1, ?2)
			ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE tollgate_token_replay.expires_at <= ?3`},
		{&db.stmt.grantGet, db.reader, `SELECT ` + grantColumns + ` FROM tollgate_grants WHERE id = ?`},
		{&db.stmt.approvalGet, db.reader, `SELECT ` + approvalColumns + ` FROM tollgate_approvals WHERE id = ?`},
	} {
		st, err := s.pool.PrepareContext(ctx, s.query)
		if err != nil {
			return err
		}
		*s.dst = st
	}
	return nil
}

func (s *statements) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.grantCandidates, s.grantUse, s.approvalState, s.approvalForUpdate, s.approvalDecide, s.approvalUse,
		s.replayPrune, s.replayMark, s.grantGet, s.approvalGet} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
