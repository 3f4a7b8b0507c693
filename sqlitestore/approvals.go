package sqlitestore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-go/tollgate/approvals"
)

// approvalStore is DB.Approvals.
type approvalStore struct{ db *DB }

var _ approvals.Store = approvalStore{}

var errZeroNow = errors.New("sqlitestore: now is zero; pass the current time")

func scanRecord(row interface{ Scan(...any) error }) (approvals.Record, error) {
	var rec approvals.Record
	var id, outcome string
	var request, decisions []byte
	var expires, created int64
	var decided, used sql.NullInt64
	var required int
	if err := row.Scan(&id, &request, &rec.BindingHash, &expires, &created, &outcome, &rec.DecidedBy, &rec.Note, &decided, &used, &required, &decisions); err != nil {
		return approvals.Record{}, err
	}
	r, err := decodeRequest(request, id, time.Unix(0, expires))
	if err != nil {
		return approvals.Record{}, fmt.Errorf("approval %q: stored request is unreadable: %w", id, err)
	}
	if rec.Decisions, err = decodeDecisions(decisions); err != nil {
		return approvals.Record{}, fmt.Errorf("approval %q: stored decisions are unreadable: %w", id, err)
	}
	// A stored 1 is the column default, which also means "not set".
	if required > 1 {
		r.ApprovalsRequired = required
	}
	rec.Request, rec.Outcome = r, approvals.Outcome(outcome)
	rec.CreatedAt, rec.DecidedAt, rec.UsedAt = time.Unix(0, created), fromNanos(decided), fromNanos(used)
	return rec, nil
}

// Create implements approvals.Store. The binding hash is computed from the
// request as given; the stored copy has its params redacted (WithRedactor).
func (s approvalStore) Create(ctx context.Context, r approvals.Request) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", wrap("create approval", err)
	}
	if err := r.Validate(); err != nil {
		return "", err
	}
	if !storable(r.ExpiresAt) {
		return "", fmt.Errorf("%w: ExpiresAt %s is outside the years 1678 to 2262 the SQLite store can hold", approvals.ErrInvalidRequest, r.ExpiresAt)
	}
	binding := approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	data, err := encodeRequest(r, s.db.cfg.redactor)
	if err != nil {
		return "", err
	}
	res, err := s.db.writer.ExecContext(ctx, `INSERT INTO tollgate_approvals (id, request, binding_hash, expires_at, created_at, approvals_required)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		r.ID, string(data), binding, r.ExpiresAt.UnixNano(), clampNanos(s.db.now()), r.Required())
	if err != nil {
		return "", wrap("create approval", err)
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return "", wrap("create approval", err)
	case n == 0:
		return "", fmt.Errorf("%w: %q", approvals.ErrExists, r.ID)
	}
	return r.ID, nil
}

// Get implements approvals.Store.
func (s approvalStore) Get(ctx context.Context, id string) (approvals.Record, error) {
	rec, err := scanRecord(s.db.stmt.approvalGet.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return approvals.Record{}, fmt.Errorf("%w: %q", approvals.ErrNotFound, id)
	}
	return rec, wrap("get approval", err)
}

// state is what Consume checks before it writes.
type state struct {
	binding   string
	outcome   approvals.Outcome
	decidedBy string
	expiresAt time.Time
	usedAt    time.Time
}

// readState reads the state of id inside the write transaction.
func (s approvalStore) readState(ctx context.Context, tx *sql.Tx, id string) (state, error) {
	var st state
	var outcome string
	var expires int64
	var used sql.NullInt64
	err := tx.StmtContext(ctx, s.db.stmt.approvalState).QueryRowContext(ctx, id).Scan(&st.binding, &outcome, &st.decidedBy, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return state{}, fmt.Errorf("%w: %q", approvals.ErrNotFound, id)
	}
	st.outcome, st.expiresAt, st.usedAt = approvals.Outcome(outcome), time.Unix(0, expires), fromNanos(used)
	return st, err
}

// Decide implements approvals.Store: approvals.Record.Apply on the record
// read inside the write transaction, so that concurrent deciders, in any
// number of processes, are counted one after the other. A decision that
// settles the request wakes this DB's waiters at once.
func (s approvalStore) Decide(ctx context.Context, id string, d approvals.Decision) error {
	if err := ctx.Err(); err != nil {
		return wrap("decide approval", err)
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if !storable(d.At) {
		return fmt.Errorf("%w: At %s is outside the years 1678 to 2262 the SQLite store can hold", approvals.ErrInvalidDecision, d.At)
	}
	settled := false
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		rec, err := scanRecord(tx.StmtContext(ctx, s.db.stmt.approvalForUpdate).QueryRowContext(ctx, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", approvals.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if err := rec.Apply(d); err != nil {
			return err
		}
		decisions, err := encodeDecisions(rec.Decisions)
		if err != nil {
			return err
		}
		settled = !rec.Pending()
		_, err = tx.StmtContext(ctx, s.db.stmt.approvalDecide).ExecContext(ctx,
			string(rec.Outcome), rec.DecidedBy, rec.Note, nullNanos(rec.DecidedAt), string(decisions), id)
		return err
	})
	if err != nil {
		return wrap("decide approval", err)
	}
	if settled {
		s.db.waiters.notify(id)
	}
	return nil
}

// Wait implements approvals.Store. A decision made through this DB wakes
// the waiter at once; one made by another process sharing the file is
// seen at the next poll (WithPollInterval).
func (s approvalStore) Wait(ctx context.Context, id string) (approvals.Record, error) {
	decided, release := s.db.waiters.watch(id)
	defer release()
	// The record is read even after ctx ends: Wait then reports it as it
	// is, which a canceled context would not let us read.
	readCtx := context.WithoutCancel(ctx)
	var poll *time.Ticker // started only if the first read finds the request pending
	for {
		rec, err := s.Get(readCtx, id)
		if err != nil || !rec.Pending() || ctx.Err() != nil {
			return rec, err
		}
		if poll == nil {
			poll = time.NewTicker(s.db.cfg.pollInterval)
			defer poll.Stop()
		}
		select {
		case <-decided:
			decided = nil // closed for good; the next read sees the decision
		case <-poll.C:
		case <-ctx.Done():
		}
	}
}

// Consume implements approvals.Store. The checks and the use are one
// BEGIN IMMEDIATE transaction, so of any number of concurrent consumers, in
// any number of processes, exactly one succeeds.
func (s approvalStore) Consume(ctx context.Context, id, bindingHash string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("consume approval", err)
	}
	if now.IsZero() {
		return errZeroNow
	}
	return wrap("consume approval", s.db.write(ctx, func(tx *sql.Tx) error {
		st, err := s.readState(ctx, tx, id)
		if err != nil {
			return err
		}
		// The binding is checked first so that a different call learns
		// nothing about the state of someone else's approval.
		if subtle.ConstantTimeCompare([]byte(bindingHash), []byte(st.binding)) != 1 {
			return fmt.Errorf("%w: %q", approvals.ErrMismatch, id)
		}
		switch {
		case st.outcome == approvals.OutcomeDeferred:
			return fmt.Errorf("%w: %q is still pending", approvals.ErrNotApproved, id)
		case st.outcome != approvals.OutcomeApproved:
			return fmt.Errorf("%w: %q was %s by %s", approvals.ErrNotApproved, id, st.outcome, st.decidedBy)
		case !st.usedAt.IsZero():
			return fmt.Errorf("%w: %q was used at %s", approvals.ErrUsed, id, st.usedAt.Format(time.RFC3339Nano))
		case !now.Before(st.expiresAt):
			return fmt.Errorf("%w: %q expired at %s", approvals.ErrExpired, id, st.expiresAt.Format(time.RFC3339))
		}
		_, err = tx.StmtContext(ctx, s.db.stmt.approvalUse).ExecContext(ctx, clampNanos(now), id)
		return err
	}))
}

// List implements approvals.Store.
func (s approvalStore) List(ctx context.Context, pendingOnly bool) ([]approvals.Record, error) {
	query := `SELECT ` + approvalColumns + ` FROM tollgate_approvals ORDER BY seq`
	if pendingOnly {
		query = `SELECT ` + approvalColumns + ` FROM tollgate_approvals WHERE outcome = 'deferred' ORDER BY seq`
	}
	rows, err := s.db.reader.QueryContext(ctx, query)
	if err != nil {
		return nil, wrap("list approvals", err)
	}
	defer rows.Close()
	var out []approvals.Record
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			return nil, wrap("list approvals", err)
		}
		out = append(out, rec)
	}
	return out, wrap("list approvals", rows.Err())
}
