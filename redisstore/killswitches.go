package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/tollgate-go/tollgate/killswitch"
)

// KillSwitchStore is the killswitch.Store kept in Redis (Store.KillSwitches),
// shared by every replica using the same deployment and prefix. Its Matcher
// answers from a killswitch.Mirror, kept fresh three ways: a change made
// through this store is in it when the call returns; a change made by any
// replica is announced on a pub/sub channel, which wakes the others' Run
// to re-read the switches at once (milliseconds); and Run re-reads them
// every resync interval anyway (killswitch.DefaultResyncInterval, 1s),
// since Redis drops pub/sub messages sent while a subscriber reconnects.
//
// It fails closed: when the last read that succeeded started longer ago
// than the staleness bound (killswitch.DefaultMaxStaleness, 5s;
// killswitch.WithMaxStaleness), because Redis is down, unreachable or
// stalled, Matcher returns killswitch.ErrStale and a Tower refuses every
// call. Run must be running for the state to stay fresh.
type KillSwitchStore struct {
	s      *Store
	mirror *killswitch.Mirror
}

var _ killswitch.Store = (*KillSwitchStore)(nil)

// KillSwitches returns the kill switch store, with a Mirror configured by
// opts (killswitch.WithResyncInterval, WithMaxStaleness, WithClock). Its
// Matcher fails with killswitch.ErrStale until the first read: start Run
// (or call Sync) before serving calls. Keep one per process.
func (s *Store) KillSwitches(opts ...killswitch.Option) (*KillSwitchStore, error) {
	ks := &KillSwitchStore{s: s}
	m, err := killswitch.NewMirror(ks.load, opts...)
	if err != nil {
		return nil, err
	}
	ks.mirror = m
	return ks, nil
}

// KillSwitchChannel returns the pub/sub channel on which changes to the
// kill switches are announced (the message is the switch's id).
func (s *Store) KillSwitchChannel() string { return s.keys.killChanged }

// switchRecord is a switch as stored: JSON in the switches hash. Times are
// time keys, so that scripts compare them exactly.
type switchRecord struct {
	ID        string `json:"id"`
	Scope     string `json:"scope"`
	Reason    string `json:"reason"`
	SetBy     string `json:"set_by"`
	SetAt     string `json:"set_at"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

func encodeSwitch(sw killswitch.Switch) (string, error) {
	r := switchRecord{ID: sw.ID, Scope: sw.Scope.String(), Reason: sw.Reason, SetBy: sw.SetBy, SetAt: timeKey(sw.SetAt)}
	if !sw.ExpiresAt.IsZero() {
		r.ExpiresAt = timeKey(sw.ExpiresAt)
	}
	b, err := json.Marshal(r)
	return string(b), err
}

// decodeSwitch reads a stored switch. A scope this build cannot parse is
// an error: dropping it would silently lift the switch.
func decodeSwitch(v string) (killswitch.Switch, error) {
	var r switchRecord
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return killswitch.Switch{}, fmt.Errorf("kill switch record: %w", err)
	}
	sc, err := killswitch.ParseScope(r.Scope)
	if err != nil {
		return killswitch.Switch{}, fmt.Errorf("kill switch %q: %w", r.ID, err)
	}
	sw := killswitch.Switch{ID: r.ID, Scope: sc, Reason: r.Reason, SetBy: r.SetBy}
	if sw.SetAt, err = parseTimeKey(r.SetAt); err == nil {
		sw.ExpiresAt, err = parseOptionalTimeKey(r.ExpiresAt)
	}
	if err != nil {
		return killswitch.Switch{}, fmt.Errorf("kill switch %q: %w", r.ID, err)
	}
	return sw, nil
}

// setSwitchScript forgets expired switches, stores a new one unless its ID
// is taken, and announces it.
// KEYS: switches hash, expiries hash. ARGV: now (time key), id, record,
// expiry (time key, "" for none), channel.
var setSwitchScript = redis.NewScript(luaBefore + `
local exp = redis.call('HGETALL', KEYS[2])
for i = 1, #exp, 2 do
  if not before(ARGV[1], exp[i + 1]) then
    redis.call('HDEL', KEYS[1], exp[i])
    redis.call('HDEL', KEYS[2], exp[i])
  end
end
if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then return 0 end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
`)

// liftSwitchScript removes a switch, announces it and returns its record
// (nil when there was none).
// KEYS: switches hash, expiries hash. ARGV: id, channel.
var liftSwitchScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return v
`)

// Set implements killswitch.Store.
func (ks *KillSwitchStore) Set(ctx context.Context, sw killswitch.Switch) (killswitch.Switch, error) {
	if err := ctx.Err(); err != nil {
		return killswitch.Switch{}, err
	}
	now := ks.s.now()
	if sw.SetAt.IsZero() {
		sw.SetAt = now
	}
	if err := sw.Validate(); err != nil {
		return killswitch.Switch{}, err
	}
	if sw.ID == "" {
		sw.ID = uuid.NewString()
	}
	rec, err := encodeSwitch(sw)
	if err != nil {
		return killswitch.Switch{}, fmt.Errorf("redisstore: set kill switch: %w", err)
	}
	expiry := ""
	if !sw.ExpiresAt.IsZero() {
		expiry = timeKey(sw.ExpiresAt)
	}
	k := &ks.s.keys
	set, err := setSwitchScript.Run(ctx, ks.s.client, []string{k.killSwitches, k.killExpiry},
		timeKey(now), sw.ID, rec, expiry, k.killChanged).Int()
	if err != nil {
		return killswitch.Switch{}, fmt.Errorf("redisstore: set kill switch: %w", err)
	}
	if set == 0 {
		return killswitch.Switch{}, fmt.Errorf("%w: %q", killswitch.ErrExists, sw.ID)
	}
	ks.resync(ctx)
	return sw, nil
}

// Lift implements killswitch.Store.
func (ks *KillSwitchStore) Lift(ctx context.Context, id string) (killswitch.Switch, bool, error) {
	if err := ctx.Err(); err != nil {
		return killswitch.Switch{}, false, err
	}
	k := &ks.s.keys
	v, err := liftSwitchScript.Run(ctx, ks.s.client, []string{k.killSwitches, k.killExpiry}, id, k.killChanged).Text()
	if errors.Is(err, redis.Nil) {
		return killswitch.Switch{}, false, nil
	}
	if err != nil {
		return killswitch.Switch{}, false, fmt.Errorf("redisstore: lift kill switch: %w", err)
	}
	ks.resync(ctx)
	sw, err := decodeSwitch(v)
	if err != nil {
		return killswitch.Switch{}, false, fmt.Errorf("redisstore: lift kill switch: %w", err)
	}
	return sw, true, nil
}

// List implements killswitch.Store.
func (ks *KillSwitchStore) List(ctx context.Context, now time.Time) ([]killswitch.Switch, error) {
	if now.IsZero() {
		return nil, killswitch.ErrZeroTime
	}
	list, err := ks.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("redisstore: list kill switches: %w", err)
	}
	return killswitch.InForceAt(list, now), nil
}

// Matcher implements killswitch.Source.
func (ks *KillSwitchStore) Matcher() (*killswitch.Matcher, error) { return ks.mirror.Matcher() }

// Sync reads the switches into the Matcher now.
func (ks *KillSwitchStore) Sync(ctx context.Context) error { return ks.mirror.Sync(ctx) }

// Run keeps the Matcher fresh until ctx ends, and returns ctx's error: it
// subscribes to the change channel, then reads the switches at once, on
// every announcement and every resync interval. Failed reads go to
// onError (when not nil); they are retried, and the Matcher fails closed
// once the staleness bound passes without a successful one.
func (ks *KillSwitchStore) Run(ctx context.Context, onError func(error)) error {
	sub := ks.s.client.Subscribe(ctx, ks.s.keys.killChanged)
	defer sub.Close()
	// Wait for the subscription to be in place, so that no change made
	// after the first read below goes unannounced; if Redis is down, the
	// resyncs take over until the subscription reconnects.
	if _, err := sub.Receive(ctx); err != nil && onError != nil && ctx.Err() == nil {
		onError(fmt.Errorf("redisstore: subscribe to kill switch changes: %w", err))
	}
	go func() {
		for range sub.Channel() {
			ks.mirror.Wake()
		}
	}()
	return ks.mirror.Run(ctx, onError)
}

// resync brings a change this store made into its Matcher. Should the
// read fail, the Mirror keeps its older state, which Run refreshes or
// which grows stale and fails closed.
func (ks *KillSwitchStore) resync(ctx context.Context) { _ = ks.mirror.Sync(ctx) }

func (ks *KillSwitchStore) load(ctx context.Context) ([]killswitch.Switch, error) {
	vals, err := ks.s.client.HVals(ctx, ks.s.keys.killSwitches).Result()
	if err != nil {
		return nil, err
	}
	list := make([]killswitch.Switch, len(vals))
	for i, v := range vals {
		if list[i], err = decodeSwitch(v); err != nil {
			return nil, err
		}
	}
	return list, nil
}
