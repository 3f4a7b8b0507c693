package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate/approvals"
)

// ApprovalStore is an approvals.Store in Redis. Each request is a hash that
// Redis deletes WithApprovalGrace after the request expires; a sorted set
// keeps the creation order for List. Decide and Consume are Lua scripts, so
// a decision is final, each approver counts once towards the number
// required, and an approval is spent once across every replica; the
// decision that settles a request is published on DecisionChannel to wake
// blocked Wait calls on any replica.
type ApprovalStore struct{ s *Store }

var _ approvals.Store = (*ApprovalStore)(nil)

// luaPrune drops index entries whose record Redis has deleted: their
// deadline (the record's PEXPIREAT) lies before the server time NOW. A
// limit bounds the work of one call; nil means no limit.
const luaPrune = `
local t = redis.call('TIME')
local NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function prune(order, deadlines, limit)
  local stale
  if limit then
    stale = redis.call('ZRANGEBYSCORE', deadlines, '-inf', string.format('(%d', NOW), 'LIMIT', 0, limit)
  else
    stale = redis.call('ZRANGEBYSCORE', deadlines, '-inf', string.format('(%d', NOW))
  end
  for _, id in ipairs(stale) do
    redis.call('ZREM', order, id)
    redis.call('ZREM', deadlines, id)
  end
end
`

// createApprovalScript stores a new pending request unless its ID is taken,
// and first prunes a bounded number of stale index entries so the indexes
// do not grow without List being called.
// KEYS: request hash, order, deadlines, sequence counter.
// ARGV: ID, ExpiresAt in Unix ms, grace in ms, field/value pairs.
var createApprovalScript = redis.NewScript(luaPrune + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
prune(KEYS[2], KEYS[3], 100)
local deadline = math.max(tonumber(ARGV[2]), NOW) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], deadline)
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
redis.call('ZADD', KEYS[3], deadline, ARGV[1])
return 1
`)

// Create implements approvals.Store. The binding hash is computed from r
// as given; the stored copy has its params and metadata redacted
// (WithRedactor). The record is kept until WithApprovalGrace after
// r.ExpiresAt (or after now, if r has already expired).
func (as *ApprovalStore) Create(ctx context.Context, r approvals.Request) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := r.Validate(); err != nil {
		return "", err
	}
	binding := approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	data, err := encodeRequest(r, as.s.redactor)
	if err != nil {
		return "", err
	}
	k := &as.s.keys
	keys := []string{k.approval + r.ID, k.approvalOrder, k.approvalDeadlines, k.approvalSeq}
	created, err := createApprovalScript.Run(ctx, as.s.client, keys,
		r.ID, r.ExpiresAt.UnixMilli(), as.s.grace.Milliseconds(),
		"request", data, "binding", binding, "created", timeKey(as.s.now()), "expires", timeKey(r.ExpiresAt),
		"outcome", string(approvals.OutcomeDeferred), "by", "", "note", "", "decided", "", "used", "",
		"required", r.Required(), "decisions", "[]",
	).Int()
	if err != nil {
		return "", fmt.Errorf("redisstore: create approval %q: %w", r.ID, err)
	}
	if created == 0 {
		return "", fmt.Errorf("%w: %q", approvals.ErrExists, r.ID)
	}
	return r.ID, nil
}

// Get implements approvals.Store.
func (as *ApprovalStore) Get(ctx context.Context, id string) (approvals.Record, error) {
	if err := ctx.Err(); err != nil {
		return approvals.Record{}, err
	}
	vals, err := as.s.client.HMGet(ctx, as.s.keys.approval+id, approvalFields[:]...).Result()
	if err != nil {
		return approvals.Record{}, fmt.Errorf("redisstore: get approval %q: %w", id, err)
	}
	if vals[0] == nil {
		return approvals.Record{}, fmt.Errorf("%w: %q", approvals.ErrNotFound, id)
	}
	return decodeRecord(id, vals)
}

// decideScript adds one decision to a pending, unexpired request, as
// approvals.Record.Apply does: a second approval by the same person is
// refused, a denial or the required-th approval settles the request and is
// published. The decision list is JSON; the new element arrives encoded
// (ARGV[6]) and is compared through cjson on both sides, so that an
// approver's id matches however JSON escaped it.
// KEYS: request hash. ARGV: outcome, by, note, decision time key, channel,
// the decision as JSON.
var decideScript = redis.NewScript(luaBefore + `
local r = redis.call('HMGET', KEYS[1], 'outcome', 'by', 'expires', 'required', 'decisions')
if not r[1] then return {'notfound'} end
if r[1] ~= 'deferred' then return {'decided', r[1], r[2]} end
if not before(ARGV[4], r[3]) then return {'expired', r[3]} end
local list = r[5] or '[]'
local new = cjson.decode(ARGV[6])
local approvals = 0
for _, d in ipairs(cjson.decode(list)) do
  if d.outcome == 'approved' then
    if new.outcome == 'approved' and d.by == new.by then return {'duplicate'} end
    approvals = approvals + 1
  end
end
if list == '[]' then
  list = '[' .. ARGV[6] .. ']'
else
  list = string.sub(list, 1, -2) .. ',' .. ARGV[6] .. ']'
end
redis.call('HSET', KEYS[1], 'decisions', list)
if ARGV[1] == 'denied' or approvals + 1 >= tonumber(r[4] or '1') then
  redis.call('HSET', KEYS[1], 'outcome', ARGV[1], 'by', ARGV[2], 'note', ARGV[3], 'decided', ARGV[4])
  redis.call('PUBLISH', ARGV[5], ARGV[1])
end
return {'ok'}
`)

// Decide implements approvals.Store. What cannot change once a request
// exists — who made and delegated the call — is checked on a read of the
// record, with approvals.Record.Apply, so every backend refuses with the
// same errors; the script then checks and updates what can change
// (settled, expired, who approved already) atomically.
func (as *ApprovalStore) Decide(ctx context.Context, id string, d approvals.Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec, err := as.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := rec.Apply(d); err != nil {
		return err
	}
	vote, err := encodeDecision(d)
	if err != nil {
		return err
	}
	res, err := decideScript.Run(ctx, as.s.client, []string{as.s.keys.approval + id},
		string(d.Outcome), d.By, d.Note, timeKey(d.At), as.s.DecisionChannel(id), vote).StringSlice()
	if err != nil {
		return fmt.Errorf("redisstore: decide approval %q: %w", id, err)
	}
	switch {
	case res[0] == "ok":
		return nil
	case res[0] == "notfound":
		return fmt.Errorf("%w: %q", approvals.ErrNotFound, id)
	case res[0] == "decided" && len(res) == 3:
		return fmt.Errorf("%w: %q was %s by %s", approvals.ErrAlreadyDecided, id, res[1], res[2])
	case res[0] == "expired" && len(res) == 2:
		return fmt.Errorf("%w: %q expired at %s, before the decision", approvals.ErrExpired, id, formatTimeKey(res[1]))
	case res[0] == "duplicate":
		return fmt.Errorf("%w: %s already approved %q", approvals.ErrDuplicateApprover, d.By, id)
	}
	return fmt.Errorf("redisstore: decide approval %q: unexpected script reply %q", id, res)
}

// consumeApprovalScript spends an approval. The binding hashes are compared
// through SHA-1 so that the time taken does not reveal how much of a
// guessed hash was right.
// KEYS: request hash. ARGV: binding hash, now as a time key.
var consumeApprovalScript = redis.NewScript(luaBefore + `
local r = redis.call('HMGET', KEYS[1], 'binding', 'outcome', 'by', 'used', 'expires')
if not r[1] then return {'notfound'} end
if redis.sha1hex(r[1]) ~= redis.sha1hex(ARGV[1]) then return {'mismatch'} end
if r[2] == 'deferred' then return {'pending'} end
if r[2] ~= 'approved' then return {'notapproved', r[2], r[3]} end
if r[4] ~= '' then return {'used', r[4]} end
if not before(ARGV[2], r[5]) then return {'expired', r[5]} end
redis.call('HSET', KEYS[1], 'used', ARGV[2])
return {'ok'}
`)

// Consume implements approvals.Store.
func (as *ApprovalStore) Consume(ctx context.Context, id, bindingHash string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if now.IsZero() {
		return errors.New("redisstore: consume approval: now is zero; pass the current time")
	}
	res, err := consumeApprovalScript.Run(ctx, as.s.client, []string{as.s.keys.approval + id}, bindingHash, timeKey(now)).StringSlice()
	if err != nil {
		return fmt.Errorf("redisstore: consume approval %q: %w", id, err)
	}
	switch {
	case res[0] == "ok":
		return nil
	case res[0] == "notfound":
		return fmt.Errorf("%w: %q", approvals.ErrNotFound, id)
	case res[0] == "mismatch":
		return fmt.Errorf("%w: %q", approvals.ErrMismatch, id)
	case res[0] == "pending":
		return fmt.Errorf("%w: %q is still pending", approvals.ErrNotApproved, id)
	case res[0] == "notapproved" && len(res) == 3:
		return fmt.Errorf("%w: %q was %s by %s", approvals.ErrNotApproved, id, res[1], res[2])
	case res[0] == "used" && len(res) == 2:
		return fmt.Errorf("%w: %q was used at %s", approvals.ErrUsed, id, formatTimeKey(res[1]))
	case res[0] == "expired" && len(res) == 2:
		return fmt.Errorf("%w: %q expired at %s", approvals.ErrExpired, id, formatTimeKey(res[1]))
	}
	return fmt.Errorf("redisstore: consume approval %q: unexpected script reply %q", id, res)
}

// formatTimeKey renders a time key for an error message.
func formatTimeKey(s string) string {
	t, err := parseTimeKey(s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Wait implements approvals.Store. It subscribes to DecisionChannel (on
// which only a settling decision is published) before
// it reads the record: a decision made between the two is then in the
// record, and one made after the read is announced to a subscription that
// already exists. (Tollgate read first and subscribed second, and slept
// through a decision made in between.) While the request stays pending it
// is re-read every WithWaitRecheck, in case a message was lost. Each
// blocked Wait holds one Redis connection.
func (as *ApprovalStore) Wait(ctx context.Context, id string) (approvals.Record, error) {
	if ctx.Err() != nil {
		return as.lastRead(ctx, id)
	}
	sub := as.s.client.Subscribe(ctx, as.s.DecisionChannel(id))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		if ctx.Err() != nil {
			return as.lastRead(ctx, id)
		}
		return approvals.Record{}, fmt.Errorf("redisstore: wait for approval %q: subscribe: %w", id, err)
	}
	decided := sub.Channel()
	recheck := time.NewTicker(as.s.waitRecheck)
	defer recheck.Stop()
	for {
		rec, err := as.Get(ctx, id)
		switch {
		case ctx.Err() != nil:
			return as.lastRead(ctx, id)
		case err != nil || !rec.Pending():
			return rec, err
		}
		if as.s.waitHook != nil {
			as.s.waitHook()
		}
		select {
		case <-decided:
		case <-recheck.C:
		case <-ctx.Done():
			return as.lastRead(ctx, id)
		}
	}
}

// lastRead returns the record as it is once Wait's ctx has ended; the read
// itself must not be cut short by that ctx.
func (as *ApprovalStore) lastRead(ctx context.Context, id string) (approvals.Record, error) {
	return as.Get(context.WithoutCancel(ctx), id)
}

// listApprovalsScript prunes the indexes, then returns each live request as
// its ID followed by its approvalFields, oldest first.
// KEYS: order, deadlines. ARGV: request key prefix.
var listApprovalsScript = redis.NewScript(luaPrune + luaStrings("FIELDS", approvalFields[:]) + `
prune(KEYS[1], KEYS[2], nil)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = redis.call('HMGET', ARGV[1] .. id, unpack(FIELDS))
  if row[1] then
    table.insert(row, 1, id)
    out[#out + 1] = row
  end
end
return out
`)

// List implements approvals.Store.
func (as *ApprovalStore) List(ctx context.Context, pendingOnly bool) ([]approvals.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := &as.s.keys
	rows, err := listApprovalsScript.Run(ctx, as.s.client, []string{k.approvalOrder, k.approvalDeadlines}, k.approval).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list approvals: %w", err)
	}
	var out []approvals.Record
	for _, row := range rows {
		vals, ok := row.([]any)
		if !ok || len(vals) == 0 {
			return nil, fmt.Errorf("redisstore: list approvals: malformed row %v", row)
		}
		id, _ := vals[0].(string)
		rec, err := decodeRecord(id, vals[1:])
		if err != nil {
			return nil, err
		}
		if !pendingOnly || rec.Pending() {
			out = append(out, rec)
		}
	}
	return out, nil
}
