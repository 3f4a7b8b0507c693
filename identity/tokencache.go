package identity

import (
	"crypto"
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// DefaultTokenCacheSize is how many verified tokens a JWTVerifier
// remembers unless WithTokenCacheSize says otherwise.
const DefaultTokenCacheSize = 10_000

// tokenKey is a keyed 64-bit digest of a token: the cache's map key.
// Hashing a token this way costs a tenth of SHA-256, which was most of the
// cost of a cache hit. The seed is random per cache, so no one outside the
// process can aim for a collision; and since a 64-bit digest may still
// collide, a hit counts only when the cached token is the presented one
// byte for byte.
type tokenKey uint64

// tokenCache is a bounded LRU of verified tokens. An entry is never served
// at or after its token's "exp" (the skew tolerated on "exp" is not
// applied here: past exp the token is verified again in full).
//
// It holds the tokens themselves until they expire or are evicted, as any
// in-flight request does: a memory dump of the process reveals unexpired
// tokens either way.
type tokenCache struct {
	seed    maphash.Seed
	mu      sync.Mutex
	max     int
	entries map[tokenKey]*cacheEntry
	root    cacheEntry // sentinel: root.next is the most recently used
}

type cacheEntry struct {
	key        tokenKey
	token      string
	claims     *Claims // never changed once cached
	verifiedBy crypto.PublicKey
	prev, next *cacheEntry
}

func newTokenCache(max int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), max: max, entries: make(map[tokenKey]*cacheEntry, min(max, 1024))}
	c.root.prev, c.root.next = &c.root, &c.root
	return c
}

func (c *tokenCache) keyOf(token string) tokenKey {
	return tokenKey(maphash.String(c.seed, token))
}

// get returns the claims cached for token and the key that verified them,
// if the token has not expired at now.
func (c *tokenCache) get(token string, now time.Time) (*Claims, crypto.PublicKey, bool) {
	k := c.keyOf(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || e.token != token {
		return nil, nil, false
	}
	if !now.Before(e.claims.ExpiresAt) {
		c.remove(e)
		return nil, nil, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.claims, e.verifiedBy, true
}

// put caches claims for token, evicting the least recently used entry when
// the cache is full. A token whose digest collides with a cached one
// replaces it.
func (c *tokenCache) put(token string, claims *Claims, verifiedBy crypto.PublicKey) {
	k := c.keyOf(token)
	// A copy, so the entry does not keep alive whatever buffer token was cut from.
	token = strings.Clone(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		e.token, e.claims, e.verifiedBy = token, claims, verifiedBy
		c.unlink(e)
		c.pushFront(e)
		return
	}
	if len(c.entries) >= c.max {
		c.remove(c.root.prev)
	}
	e := &cacheEntry{key: k, token: token, claims: claims, verifiedBy: verifiedBy}
	c.entries[k] = e
	c.pushFront(e)
}

// drop forgets token (its key is gone from the key set).
func (c *tokenCache) drop(token string) {
	k := c.keyOf(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok && e.token == token {
		c.remove(e)
	}
}

func (c *tokenCache) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.entries, e.key)
}

func (c *tokenCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *tokenCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}
