package identity

import (
	"testing"
	"time"
)

// The map key is a 64-bit digest; two tokens sharing it must not share
// claims. The collision is forced by filing one token's entry under the
// other's key.
func TestTokenCacheDigestCollisionMisses(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newTokenCache(4)
	victim := &Claims{ExpiresAt: now.Add(time.Hour)}
	c.put("victim.token.sig", victim, nil)
	c.entries[c.keyOf("forged.token.sig")] = c.entries[c.keyOf("victim.token.sig")]

	if claims, _, ok := c.get("forged.token.sig", now); ok {
		t.Fatalf("colliding token served %+v", claims)
	}
	c.drop("forged.token.sig")
	if claims, _, ok := c.get("victim.token.sig", now); !ok || claims != victim {
		t.Fatal("dropping a colliding token evicted the cached one")
	}
}

// Each cache has its own seed, so no digest is predictable from outside
// the process.
func TestTokenCacheSeedPerCache(t *testing.T) {
	a, b := newTokenCache(1), newTokenCache(1)
	if a.keyOf("token") == b.keyOf("token") {
		t.Fatal("two caches digest a token alike: the seed is not random")
	}
}
