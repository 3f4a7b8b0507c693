package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate/identity"
)

// ReplayCache is an identity.ReplayCache in Redis: one key per used token,
// set with SET NX PXAT so that marking is atomic across replicas and Redis
// forgets the token when it expires.
type ReplayCache struct{ s *Store }

var _ identity.ReplayCache = (*ReplayCache)(nil)

// MarkUsed implements identity.ReplayCache. Like the memory cache it
// records nothing for a token that has already expired (Redis drops a key
// whose PXAT lies in the past), since no verifier accepts such a token. A
// zero expiresAt is refused: a token without an expiry cannot be tracked.
func (rc *ReplayCache) MarkUsed(ctx context.Context, jti string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if jti == "" {
		return errors.New("redisstore: MarkUsed needs a jti")
	}
	if expiresAt.IsZero() {
		return fmt.Errorf("redisstore: MarkUsed(%q): expiresAt is zero; pass the token's expiry", jti)
	}
	// Round up to whole milliseconds: forgetting a token early would let it
	// be replayed in the gap.
	ms := expiresAt.Add(time.Millisecond - time.Nanosecond).UnixMilli()
	if ms <= 0 {
		return nil // expired long ago; Redis refuses a non-positive PXAT
	}
	err := rc.s.client.Do(ctx, "SET", rc.s.ReplayKey(jti), "1", "NX", "PXAT", ms).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("%w: jti %q", identity.ErrReplayed, jti)
	case err != nil:
		return fmt.Errorf("redisstore: mark token %q used: %w", jti, err)
	}
	return nil
}
