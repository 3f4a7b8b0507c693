package identity

import (
	"crypto"
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"
)

// DefaultTokenCacheSize is how many verified tokens a JWTVerifier
// remembers unless WithTokenCacheSize says otherwise.
const DefaultTokenCacheSize = 10_000

// tokenDigest is the SHA-256 of a token. The cache keys by digest so that
// it holds no bearer token an attacker could lift from a memory dump.
type tokenDigest [sha256.Size]byte

// digestOf hashes token without copying it: Sum256 only reads its input,
// and the copy would be the largest cost of a cache hit.
func digestOf(token string) tokenDigest {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// tokenCache is a bounded LRU of verified tokens. An entry is never served
// at or after its token's "exp" (the skew tolerated on "exp" is not
// applied here: past exp the token is verified again in full).
type tokenCache struct {
	mu      sync.Mutex
	max     int
	entries map[tokenDigest]*cacheEntry
	root    cacheEntry // sentinel: root.next is the most recently used
}

type cacheEntry struct {
	digest     tokenDigest
	claims     *Claims // never changed once cached
	key        crypto.PublicKey
	prev, next *cacheEntry
}

func newTokenCache(max int) *tokenCache {
	c := &tokenCache{max: max, entries: make(map[tokenDigest]*cacheEntry, min(max, 1024))}
	c.root.prev, c.root.next = &c.root, &c.root
	return c
}

// get returns the claims cached under d and the key that verified them, if
// the token has not expired at now.
func (c *tokenCache) get(d tokenDigest, now time.Time) (*Claims, crypto.PublicKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[d]
	if !ok {
		return nil, nil, false
	}
	if !now.Before(e.claims.ExpiresAt) {
		c.remove(e)
		return nil, nil, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.claims, e.key, true
}

// put caches claims under d, evicting the least recently used entry when
// the cache is full.
func (c *tokenCache) put(d tokenDigest, claims *Claims, key crypto.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[d]; ok {
		e.claims, e.key = claims, key
		c.unlink(e)
		c.pushFront(e)
		return
	}
	if len(c.entries) >= c.max {
		c.remove(c.root.prev)
	}
	e := &cacheEntry{digest: d, claims: claims, key: key}
	c.entries[d] = e
	c.pushFront(e)
}

// drop forgets d (its key is gone from the key set).
func (c *tokenCache) drop(d tokenDigest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[d]; ok {
		c.remove(e)
	}
}

func (c *tokenCache) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.entries, e.digest)
}

func (c *tokenCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *tokenCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}
