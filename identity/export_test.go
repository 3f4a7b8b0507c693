package identity

import "time"

// Cached reports whether v's token cache would serve token at now (tests).
func Cached(v *JWTVerifier, token string, now time.Time) bool {
	if v.cache == nil {
		return false
	}
	_, _, ok := v.cache.get(token, now)
	return ok
}
