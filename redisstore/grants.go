package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

// GrantStore is a grants.Store in Redis. Each grant is a hash; three
// sorted sets index them (members are a time key followed by the grant ID,
// so Redis's byte order of members is grants.Compare order):
//
//   - order: every grant, for List;
//   - expiry: every grant by ExpiresAt, for CleanupExpired;
//   - live:<agent ID>: the agent's grants that are neither revoked nor used
//     up ("live:" alone holds the wildcard grants).
//
// Consume therefore reads only the caller's and the wildcard grants that
// can still be used, in one script, oldest first: no per-grant round trips.
type GrantStore struct{ s *Store }

var _ grants.Store = (*GrantStore)(nil)

// createGrantScript stores a new grant unless its ID is taken.
// KEYS: grant hash, order, expiry, live set of the grant's agent.
// ARGV: order member, expiry member, field/value pairs.
var createGrantScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[2])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return 1
`)

// Create implements grants.Store.
func (gs *GrantStore) Create(ctx context.Context, g grants.Grant) (grants.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, err
	}
	if err := g.Validate(); err != nil {
		return grants.Grant{}, err
	}
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = gs.s.now()
	}
	g.Uses, g.Revoked = 0, false
	k := &gs.s.keys
	orderMember := timeKey(g.CreatedAt) + g.ID
	keys := []string{k.grant + g.ID, k.grantOrder, k.grantExpiry, k.grantLive + g.AgentID}
	args := append([]any{orderMember, timeKey(g.ExpiresAt) + g.ID}, grantValues(g)...)
	created, err := createGrantScript.Run(ctx, gs.s.client, keys, args...).Int()
	if err != nil {
		return grants.Grant{}, fmt.Errorf("redisstore: create grant %q: %w", g.ID, err)
	}
	if created == 0 {
		return grants.Grant{}, fmt.Errorf("%w: %q", grants.ErrExists, g.ID)
	}
	return g, nil
}

// consumeGrantScript finds the oldest usable grant matching the call and
// counts a use. The live sets hold exactly the grants of one agent, so the
// agent needs no check here.
// KEYS: live set of the caller, then (unless the caller's ID is empty) the
// live set of wildcard grants.
// ARGV: grant key prefix, effect, tool, action, resource type, now.
var consumeGrantScript = redis.NewScript(luaBefore + luaGrantFields + luaIDAt + `
local function field(want, got) return want == '' or want == got end
local function tool(pattern, got)
  if string.sub(pattern, -1) == '*' then
    local prefix = string.sub(pattern, 1, -2)
    return string.sub(got, 1, #prefix) == prefix
  end
  return field(pattern, got)
end
local members
if #KEYS == 2 then
  members = redis.call('ZUNION', 2, KEYS[1], KEYS[2])
else
  members = redis.call('ZRANGE', KEYS[1], 0, -1)
end
for _, m in ipairs(members) do
  local key = ARGV[1] .. string.sub(m, ID_AT)
  local g = redis.call('HMGET', key, 'agent', 'effect', 'tool', 'action', 'rtype', 'expires', 'max', 'uses', 'revoked')
  local max, uses = tonumber(g[7]), tonumber(g[8])
  if g[9] == '0' and (max == 0 or uses < max) and before(ARGV[6], g[6])
    and field(g[2], ARGV[2]) and tool(g[3], ARGV[3]) and field(g[4], ARGV[4]) and field(g[5], ARGV[5]) then
    uses = redis.call('HINCRBY', key, 'uses', 1)
    if max > 0 and uses >= max then
      local live = KEYS[1]
      if g[1] == '' then live = KEYS[#KEYS] end
      redis.call('ZREM', live, m)
    end
    return redis.call('HMGET', key, unpack(FIELDS))
  end
end
return false
`)

// Consume implements grants.Store.
func (gs *GrantStore) Consume(ctx context.Context, agent tollgate.Agent, req tollgate.ToolRequest, now time.Time) (grants.Grant, bool, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, false, err
	}
	if now.IsZero() {
		return grants.Grant{}, false, grants.ErrZeroTime
	}
	k := &gs.s.keys
	keys := []string{k.grantLive + agent.ID}
	if agent.ID != "" {
		keys = append(keys, k.grantLive)
	}
	vals, err := consumeGrantScript.Run(ctx, gs.s.client, keys,
		k.grant, string(req.Effect), req.Tool, req.Action, req.ResourceType, timeKey(now)).Slice()
	if errors.Is(err, redis.Nil) {
		return grants.Grant{}, false, nil
	}
	if err != nil {
		return grants.Grant{}, false, fmt.Errorf("redisstore: consume grant: %w", err)
	}
	g, err := decodeGrant(vals)
	if err != nil {
		// The use was counted but cannot be reported: refuse the call.
		return grants.Grant{}, false, err
	}
	return g, true, nil
}

// revokeGrantScript marks a grant revoked and drops it from its live set.
// KEYS: grant hash. ARGV: live set prefix.
var revokeGrantScript = redis.NewScript(`
local g = redis.call('HMGET', KEYS[1], 'revoked', 'agent', 'created', 'id')
if g[1] ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
redis.call('ZREM', ARGV[1] .. g[2], g[3] .. g[4])
return 1
`)

// Revoke implements grants.Store.
func (gs *GrantStore) Revoke(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	k := &gs.s.keys
	n, err := revokeGrantScript.Run(ctx, gs.s.client, []string{k.grant + id}, k.grantLive).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: revoke grant %q: %w", id, err)
	}
	return n == 1, nil
}

// Get implements grants.Store.
func (gs *GrantStore) Get(ctx context.Context, id string) (grants.Grant, bool, error) {
	if err := ctx.Err(); err != nil {
		return grants.Grant{}, false, err
	}
	vals, err := gs.s.client.HMGet(ctx, gs.s.keys.grant+id, grantFields[:]...).Result()
	if err != nil {
		return grants.Grant{}, false, fmt.Errorf("redisstore: get grant %q: %w", id, err)
	}
	if vals[0] == nil {
		return grants.Grant{}, false, nil
	}
	g, err := decodeGrant(vals)
	return g, err == nil, err
}

// listGrantsScript returns every grant of a sorted set, in its order.
// KEYS: the sorted set. ARGV: grant key prefix.
var listGrantsScript = redis.NewScript(luaGrantFields + luaIDAt + `
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  out[#out + 1] = redis.call('HMGET', ARGV[1] .. string.sub(m, ID_AT), unpack(FIELDS))
end
return out
`)

// List implements grants.Store. Liveness is decided by grants.Grant.Active,
// as in every other backend; the live sets only narrow the scan.
func (gs *GrantStore) List(ctx context.Context, f grants.Filter) ([]grants.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !f.IncludeInactive && f.Now.IsZero() {
		return nil, fmt.Errorf("%w (Filter.Now is required unless IncludeInactive is set)", grants.ErrZeroTime)
	}
	k := &gs.s.keys
	index := k.grantOrder
	if f.AgentID != "" && !f.IncludeInactive {
		index = k.grantLive + f.AgentID
	}
	rows, err := listGrantsScript.Run(ctx, gs.s.client, []string{index}, k.grant).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list grants: %w", err)
	}
	var out []grants.Grant
	for _, row := range rows {
		vals, ok := row.([]any)
		if !ok {
			return nil, fmt.Errorf("redisstore: list grants: row is %T, want an array", row)
		}
		g, err := decodeGrant(vals)
		if err != nil {
			return nil, err
		}
		if (f.AgentID == "" || g.AgentID == f.AgentID) && (f.IncludeInactive || g.Active(f.Now)) {
			out = append(out, g)
		}
	}
	return out, nil
}

// cleanupGrantsScript deletes the grants whose expiry sorts before a bound.
// KEYS: expiry, order. ARGV: grant key prefix, live set prefix, exclusive
// upper bound of the expiry members to delete ("(" + time key).
var cleanupGrantsScript = redis.NewScript(luaIDAt + `
local members = redis.call('ZRANGEBYLEX', KEYS[1], '-', ARGV[3])
for _, m in ipairs(members) do
  local key = ARGV[1] .. string.sub(m, ID_AT)
  local g = redis.call('HMGET', key, 'agent', 'created', 'id')
  local om = g[2] .. g[3]
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[2], om)
  redis.call('ZREM', ARGV[2] .. g[1], om)
end
redis.call('ZREMRANGEBYLEX', KEYS[1], '-', ARGV[3])
return #members
`)

// CleanupExpired implements grants.Store.
func (gs *GrantStore) CleanupExpired(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if now.IsZero() {
		return 0, grants.ErrZeroTime
	}
	k := &gs.s.keys
	// Grants expiring at now are dead (Active needs ExpiresAt after now), so
	// the bound is the first instant after now.
	bound := "(" + timeKey(now.Add(time.Nanosecond))
	n, err := cleanupGrantsScript.Run(ctx, gs.s.client, []string{k.grantExpiry, k.grantOrder}, k.grant, k.grantLive, bound).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: clean up grants: %w", err)
	}
	return n, nil
}
