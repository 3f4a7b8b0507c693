package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate/identity"
)

// replayCache is DB.ReplayCache.
type replayCache struct{ db *DB }

var _ identity.ReplayCache = replayCache{}

// pruneBatch is how many expired entries each MarkUsed deletes, which keeps
// the table at about the number of live tokens without a separate cleanup
// job, at a bounded cost per call.
const pruneBatch = 16

// MarkUsed implements identity.ReplayCache: it records jti until expiresAt
// and fails with identity.ErrReplayed when jti is already recorded and has
// not expired. As in identity.MemoryReplayCache, a token already expired
// (by the DB's clock) is not recorded, and an expired entry may be
// recorded again: no verifier accepts the token it stood for.
func (c replayCache) MarkUsed(ctx context.Context, jti string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("mark token used", err)
	}
	if jti == "" {
		return errors.New("sqlitestore: mark token used: empty jti; a single-use token needs an ID")
	}
	now := c.db.now()
	if !now.Before(expiresAt) {
		return nil
	}
	nowNanos := clampNanos(now)
	var recorded bool
	err := c.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, c.db.stmt.replayPrune).ExecContext(ctx, nowNanos, pruneBatch); err != nil {
			return err
		}
		res, err := tx.StmtContext(ctx, c.db.stmt.replayMark).ExecContext(ctx, jti, clampNanos(expiresAt), nowNanos)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		recorded = n == 1
		return err
	})
	switch {
	case err != nil:
		return wrap("mark token used", err)
	case !recorded:
		return fmt.Errorf("%w: token ID %q was already used", identity.ErrReplayed, jti)
	}
	return nil
}
