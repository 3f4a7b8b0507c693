package identity

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// JWTOption configures NewJWTVerifier.
type JWTOption interface{ applyJWT(*jwtConfig) }

// SignerOption configures NewSigner.
type SignerOption interface{ applySigner(*signerConfig) }

// JWKSOption configures NewJWKSURL.
type JWKSOption interface{ applyJWKS(*jwksURLConfig) }

// ReplayCacheOption configures NewMemoryReplayCache.
type ReplayCacheOption interface{ applyReplay(*replayConfig) }

// ClaimOption configures both sides of a token: what NewSigner writes and
// what NewJWTVerifier requires.
type ClaimOption interface {
	JWTOption
	SignerOption
}

// ClockOption is accepted by every constructor here that reads the time.
type ClockOption interface {
	JWTOption
	SignerOption
	JWKSOption
	ReplayCacheOption
}

// WithClock sets the time source (tests). A nil function means time.Now.
func WithClock(now func() time.Time) ClockOption { return clockOption{now} }

type clockOption struct{ now func() time.Time }

func (o clockOption) get() func() time.Time {
	if o.now == nil {
		return time.Now
	}
	return o.now
}
func (o clockOption) applyJWT(c *jwtConfig)       { c.now = o.get() }
func (o clockOption) applySigner(c *signerConfig) { c.now = o.get() }
func (o clockOption) applyJWKS(c *jwksURLConfig)  { c.now = o.get() }
func (o clockOption) applyReplay(c *replayConfig) { c.now = o.get() }

// WithAudience names the audience: the signer writes these values as "aud";
// the verifier accepts a token whose "aud" contains at least one of them.
// Set it to the name of the service the token is for, so that a token
// minted for one service is refused by another.
func WithAudience(aud ...string) ClaimOption { return audienceOption(slices.Clone(aud)) }

type audienceOption []string

func (o audienceOption) applyJWT(c *jwtConfig)       { c.audience = []string(o) }
func (o audienceOption) applySigner(c *signerConfig) { c.audience = []string(o) }

// WithIssuer names the issuer: the signer writes it as "iss"; the verifier
// requires a token's "iss" to equal it.
func WithIssuer(iss string) ClaimOption { return issuerOption(iss) }

type issuerOption string

func (o issuerOption) applyJWT(c *jwtConfig)       { c.issuer = string(o) }
func (o issuerOption) applySigner(c *signerConfig) { c.issuer = string(o) }

// DefaultMaxTokenLifetime is the longest lifetime a JWTVerifier accepts,
// and a Signer mints, unless WithMaxTokenLifetime says otherwise.
const DefaultMaxTokenLifetime = 24 * time.Hour

// WithMaxTokenLifetime sets the longest lifetime of a token: the verifier
// refuses one whose exp − iat (or, without "iat", exp − now, with the
// skew) is over d, and NewSigner refuses a WithTTL over d, so that a
// client cannot mint tokens its server will refuse. Give both sides the
// same value. d must be positive: there is deliberately no "unlimited";
// name the longest lifetime your issuer mints instead.
func WithMaxTokenLifetime(d time.Duration) ClaimOption { return maxLifetimeOption(d) }

type maxLifetimeOption time.Duration

func (o maxLifetimeOption) applyJWT(c *jwtConfig)       { c.maxLifetime = time.Duration(o) }
func (o maxLifetimeOption) applySigner(c *signerConfig) { c.maxLifetime = time.Duration(o) }

func checkMaxLifetime(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("identity: WithMaxTokenLifetime(%v) must be positive (there is no unlimited setting; name the longest lifetime your issuer mints)", d)
	}
	return nil
}

// WithAlgorithms sets the signature algorithms the verifier accepts, among
// AlgEdDSA and AlgES256 (default: AlgEdDSA only). Any other name,
// including "none" and the HMAC algorithms, makes NewJWTVerifier fail.
func WithAlgorithms(algs ...string) JWTOption { return algorithmsOption(slices.Clone(algs)) }

type algorithmsOption []string

func (o algorithmsOption) applyJWT(c *jwtConfig) { c.algorithms = []string(o) }

// WithAnyAudience lets the verifier accept a token whatever its audience.
// It exists for tools that inspect tokens (tollgate identity inspect); a
// server should always name its audience with WithAudience.
func WithAnyAudience() JWTOption { return anyAudienceOption{} }

type anyAudienceOption struct{}

func (anyAudienceOption) applyJWT(c *jwtConfig) { c.anyAudience = true }

// WithSkew sets the clock skew tolerated on "exp", "nbf" and "iat"
// (default DefaultSkew). A negative value is refused by NewJWTVerifier.
func WithSkew(d time.Duration) JWTOption { return skewOption(d) }

type skewOption time.Duration

func (o skewOption) applyJWT(c *jwtConfig) { c.skew = time.Duration(o) }

// WithReplayCache makes every token single-use: its "jti" is required and
// recorded in rc until the token expires, and a second presentation is
// refused. Single-use tokens bypass the verified-token cache, since a cache
// hit would be a reuse. Clients must then mint a token per call
// (WithSingleUse on the Signer).
func WithReplayCache(rc ReplayCache) JWTOption { return replayOption{rc} }

type replayOption struct{ rc ReplayCache }

func (o replayOption) applyJWT(c *jwtConfig) { c.replay = o.rc }

// WithTokenCacheSize sets how many verified tokens the verifier remembers
// (default DefaultTokenCacheSize), so that an agent presenting the same
// token again skips the signature check. 0 turns the cache off.
func WithTokenCacheSize(n int) JWTOption { return cacheSizeOption(n) }

type cacheSizeOption int

func (o cacheSizeOption) applyJWT(c *jwtConfig) { c.cacheSize = int(o) }

// WithTTL sets how long the tokens a Signer mints live (default
// DefaultTokenTTL); at most the maximum lifetime (WithMaxTokenLifetime,
// default DefaultMaxTokenLifetime).
func WithTTL(d time.Duration) SignerOption { return ttlOption(d) }

type ttlOption time.Duration

func (o ttlOption) applySigner(c *signerConfig) { c.ttl = time.Duration(o) }

// WithSingleUse makes the Signer mint a fresh token (new "jti") on every
// call to Token, for servers that verify with WithReplayCache.
func WithSingleUse() SignerOption { return singleUseOption{} }

type singleUseOption struct{}

func (singleUseOption) applySigner(c *signerConfig) { c.singleUse = true }

// WithHTTPClient sets the client that fetches the JWKS (default: a client
// with a 10-second timeout).
func WithHTTPClient(hc *http.Client) JWKSOption { return httpClientOption{hc} }

type httpClientOption struct{ hc *http.Client }

func (o httpClientOption) applyJWKS(c *jwksURLConfig) { c.client = o.hc }

// WithRefresh sets how long a fetched JWKS is used before it is fetched
// again (default DefaultJWKSRefresh).
func WithRefresh(every time.Duration) JWKSOption { return refreshOption(every) }

type refreshOption time.Duration

func (o refreshOption) applyJWKS(c *jwksURLConfig) { c.refresh = time.Duration(o) }

// WithMinRefreshInterval sets the least time between two fetches of the
// JWKS (default DefaultJWKSMinRefresh). A token naming an unknown "kid"
// triggers a fetch, since the issuer may have rotated its keys; this limit
// stops a caller sending random kids from turning the verifier against the
// key server.
func WithMinRefreshInterval(d time.Duration) JWKSOption { return minRefreshOption(d) }

type minRefreshOption time.Duration

func (o minRefreshOption) applyJWKS(c *jwksURLConfig) { c.minRefresh = time.Duration(o) }

// WithMaxEntries bounds how many unexpired "jti" values a
// MemoryReplayCache holds (default DefaultReplayCacheSize). When it is full
// new tokens are refused rather than old entries forgotten, which would let
// them be replayed. n <= 0 means the default.
func WithMaxEntries(n int) ReplayCacheOption { return maxEntriesOption(n) }

type maxEntriesOption int

func (o maxEntriesOption) applyReplay(c *replayConfig) { c.max = int(o) }
