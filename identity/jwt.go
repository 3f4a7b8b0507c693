package identity

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
)

// DefaultSkew is the clock skew a JWTVerifier tolerates on "exp", "nbf" and
// "iat" unless WithSkew says otherwise.
const DefaultSkew = 30 * time.Second

// headerAuthorization is where a bearer token travels (lower-case, as
// Credentials.Header has it).
const headerAuthorization = "authorization"

// JWTVerifier verifies signed agent tokens (JWTs, see Claims for their
// contents) sent as "authorization: Bearer <token>". Create it with
// NewJWTVerifier; it is safe for concurrent use.
//
// A call without an authorization header, or with one of another scheme,
// is ErrNoCredentials, so that a Chain can try its next verifier. Every
// other failure is ErrInvalid: a token over MaxTokenSize, not a JWT, an
// algorithm not configured ("none" and HMAC never are, so a public key can
// never serve as an HMAC secret), a "kid" the key set lacks, an algorithm
// that does not fit the key, a bad signature, "exp" missing or past, "nbf"
// or "iat" in the future (each with the configured skew), a lifetime over
// the maximum (WithMaxTokenLifetime), a wrong audience or issuer, a "crit"
// header, a malformed delegation chain, or, with WithReplayCache, a
// missing or reused "jti". A header or payload that could be read two ways
// is refused too: a member name repeated anywhere, names differing only in
// case at the top level, bytes that are not UTF-8, and claims of the wrong
// JSON type ("exp" as a string, "aud" holding a number, a numeric "sub");
// see decodeClaims. The claimed agent in Credentials is ignored: only what
// the token proves counts.
type JWTVerifier struct {
	keys        KeySet
	parser      *jwt.Parser    // header, key and signature
	validator   *jwt.Validator // times, audience and issuer of the strictly decoded claims
	now         func() time.Time
	skew        time.Duration
	maxLifetime time.Duration
	replay      ReplayCache
	cache       *tokenCache // nil when off, and always with replay
}

type jwtConfig struct {
	algorithms  []string
	audience    []string
	anyAudience bool
	issuer      string
	skew        time.Duration
	maxLifetime time.Duration
	now         func() time.Time
	replay      ReplayCache
	cacheSize   int
}

// NewJWTVerifier returns a verifier for tokens signed by keys. WithAudience
// is required (or WithAnyAudience, for inspection tools); the other options
// have safe defaults: EdDSA only, DefaultSkew, DefaultMaxTokenLifetime, any
// issuer, reusable tokens, DefaultTokenCacheSize.
func NewJWTVerifier(keys KeySet, opts ...JWTOption) (*JWTVerifier, error) {
	cfg := jwtConfig{
		algorithms: []string{AlgEdDSA}, skew: DefaultSkew, maxLifetime: DefaultMaxTokenLifetime,
		now: time.Now, cacheSize: DefaultTokenCacheSize,
	}
	for _, o := range opts {
		o.applyJWT(&cfg)
	}
	if err := cfg.check(keys); err != nil {
		return nil, err
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(cfg.algorithms),
		// Strict base64 leaves one encoding per token, so a token cannot be
		// re-spelled to miss the cache or a log search.
		jwt.WithStrictDecoding(),
		// The parser's claims are unreadClaims; the validator below checks
		// the claims decodeClaims read from the signed bytes.
		jwt.WithoutClaimsValidation(),
	)
	vopts := []jwt.ParserOption{
		jwt.WithLeeway(cfg.skew),
		jwt.WithTimeFunc(cfg.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	if !cfg.anyAudience {
		vopts = append(vopts, jwt.WithAudience(cfg.audience...))
	}
	if cfg.issuer != "" {
		vopts = append(vopts, jwt.WithIssuer(cfg.issuer))
	}
	v := &JWTVerifier{
		keys: keys, parser: parser, validator: jwt.NewValidator(vopts...),
		now: cfg.now, skew: cfg.skew, maxLifetime: cfg.maxLifetime, replay: cfg.replay,
	}
	if cfg.cacheSize > 0 && cfg.replay == nil {
		v.cache = newTokenCache(cfg.cacheSize)
	}
	return v, nil
}

func (c *jwtConfig) check(keys KeySet) error {
	if keys == nil {
		return errors.New("identity: NewJWTVerifier needs a KeySet (NewJWKSFile, NewJWKSURL or NewKeySet)")
	}
	if len(c.algorithms) == 0 {
		return errors.New("identity: WithAlgorithms needs at least one of EdDSA, ES256")
	}
	for _, alg := range c.algorithms {
		if alg != AlgEdDSA && alg != AlgES256 {
			return fmt.Errorf("identity: algorithm %q is not supported; agent tokens use EdDSA or ES256", alg)
		}
	}
	switch {
	case c.anyAudience && len(c.audience) > 0:
		return errors.New("identity: WithAudience and WithAnyAudience contradict each other; keep one")
	case !c.anyAudience && len(c.audience) == 0:
		return errors.New("identity: NewJWTVerifier needs WithAudience(name of this service), so tokens minted for other services are refused")
	case slices.Contains(c.audience, ""):
		return errors.New("identity: WithAudience has an empty name")
	}
	if c.skew < 0 {
		return fmt.Errorf("identity: WithSkew(%v) must not be negative", c.skew)
	}
	if err := checkMaxLifetime(c.maxLifetime); err != nil {
		return err
	}
	if c.cacheSize < 0 {
		return fmt.Errorf("identity: WithTokenCacheSize(%d) must not be negative (0 turns the cache off)", c.cacheSize)
	}
	return nil
}

// Verify returns the agent the bearer token in c.Header proves.
func (v *JWTVerifier) Verify(ctx context.Context, c Credentials) (tollgate.Agent, error) {
	token, err := bearerToken(c.Header)
	if err != nil {
		return tollgate.Agent{}, err
	}
	claims, err := v.verify(ctx, token)
	if err != nil {
		return tollgate.Agent{}, err
	}
	return claims.Agent.Clone(), nil
}

// VerifyToken verifies a token given directly and returns all it says.
func (v *JWTVerifier) VerifyToken(ctx context.Context, token string) (Claims, error) {
	claims, err := v.verify(ctx, token)
	if err != nil {
		return Claims{}, err
	}
	c := *claims
	c.Agent = c.Agent.Clone()
	c.Audience = slices.Clone(c.Audience)
	return c, nil
}

// verify returns the claims of token, from the cache when it holds them.
// The result may be shared with the cache: callers copy what they hand on.
func (v *JWTVerifier) verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: token is %d bytes, over the %d-byte limit", ErrInvalid, len(token), MaxTokenSize)
	}
	if v.cache != nil {
		if claims, key, ok := v.cache.get(token, v.now()); ok {
			// A key removed from the set revokes its tokens, cached or not.
			if cur, err := v.keys.Key(ctx, claims.KeyID); err == nil && sameKey(cur.Public, key) {
				return claims, nil
			}
			v.cache.drop(token)
		}
	}
	claims, key, err := v.parse(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.replay != nil {
		if err := v.markUsed(ctx, claims); err != nil {
			return nil, err
		}
	}
	if v.cache != nil {
		v.cache.put(token, claims, key)
	}
	return claims, nil
}

// parse checks token in full and returns its claims and the key that
// verified it. The signature is checked first; only then are the header
// and claims read, strictly, from the very bytes it covers.
func (v *JWTVerifier) parse(ctx context.Context, token string) (*Claims, crypto.PublicKey, error) {
	var (
		key    Key
		setErr error // the key set failed (not the caller's fault)
	)
	_, err := v.parser.ParseWithClaims(token, &unreadClaims{}, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New(`token header has "crit"; no JWS extensions are supported`)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New(`token header has no "kid"`)
		}
		k, err := v.keys.Key(ctx, kid)
		if err != nil {
			if !errors.Is(err, ErrUnknownKey) {
				setErr = err
			}
			return nil, err
		}
		if alg := t.Method.Alg(); alg != k.Algorithm {
			return nil, fmt.Errorf("token algorithm %s does not fit key %q (%s)", alg, kid, k.Algorithm)
		}
		key = k
		return k.Public, nil
	})
	if setErr != nil {
		return nil, nil, fmt.Errorf("identity: key set: %w", setErr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	rc, agent, err := v.decodeSigned(token)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w: %w", ErrInvalid, jwt.ErrTokenMalformed, err)
	}
	if err := v.validator.Validate(rc); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	claims := &Claims{
		Agent:     agent,
		Issuer:    rc.Issuer,
		Audience:  rc.Audience,
		ExpiresAt: rc.ExpiresAt.Time, // required by the validator
		NotBefore: numericTime(rc.NotBefore),
		IssuedAt:  numericTime(rc.IssuedAt),
		ID:        rc.ID,
		KeyID:     key.ID,
		Algorithm: key.Algorithm,
	}
	if err := v.checkLifetime(claims); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := checkAgent(claims.Agent); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return claims, key.Public, nil
}

// decodeSigned checks the header and decodes the claims of a token whose
// signature the parser verified, from its first two segments (which the
// parser decoded the same way, so these are the bytes that were signed).
func (v *JWTVerifier) decodeSigned(token string) (jwt.RegisteredClaims, tollgate.Agent, error) {
	headerSeg, rest, _ := strings.Cut(token, ".")
	claimsSeg, _, _ := strings.Cut(rest, ".")
	header, err := v.parser.DecodeSegment(headerSeg)
	if err == nil {
		err = checkHeader(header)
	}
	if err != nil {
		return jwt.RegisteredClaims{}, tollgate.Agent{}, err
	}
	payload, err := v.parser.DecodeSegment(claimsSeg)
	if err != nil {
		return jwt.RegisteredClaims{}, tollgate.Agent{}, err
	}
	return decodeClaims(payload)
}

// checkLifetime refuses a token that lives longer than the verifier
// allows: exp − iat, or, without "iat", exp − now (plus the skew, since
// the issuer's clock may run ahead of ours). A stolen long-lived token is
// a standing credential; a short maximum bounds what a leak is worth.
func (v *JWTVerifier) checkLifetime(c *Claims) error {
	if !c.IssuedAt.IsZero() {
		if life := c.ExpiresAt.Sub(c.IssuedAt); life > v.maxLifetime {
			return fmt.Errorf("token lifetime (exp − iat) is %v, over the %v maximum (WithMaxTokenLifetime)", life, v.maxLifetime)
		}
		return nil
	}
	// left − skew, not max + skew: the sum overflows for a maximum near
	// the largest Duration, and the validator has refused left < −skew.
	if left := c.ExpiresAt.Sub(v.now()); left-v.skew > v.maxLifetime {
		return fmt.Errorf(`token has no "iat" and expires in %v, over the %v maximum lifetime (WithMaxTokenLifetime)`, left.Round(time.Second), v.maxLifetime)
	}
	return nil
}

// markUsed records a single-use token's jti until the last moment the
// verifier would accept the token.
func (v *JWTVerifier) markUsed(ctx context.Context, c *Claims) error {
	switch {
	case c.ID == "":
		return fmt.Errorf(`%w: token has no "jti"; single-use tokens need one`, ErrInvalid)
	case len(c.ID) > maxJTILen:
		return fmt.Errorf(`%w: "jti" is %d bytes, over %d`, ErrInvalid, len(c.ID), maxJTILen)
	}
	if err := v.replay.MarkUsed(ctx, c.ID, c.ExpiresAt.Add(v.skew)); err != nil {
		if errors.Is(err, ErrReplayed) {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return fmt.Errorf("identity: replay cache: %w", err)
	}
	return nil
}

func numericTime(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

// bearerToken returns the token of an "authorization: Bearer" header.
func bearerToken(h map[string][]string) (string, error) {
	values := h[headerAuthorization]
	switch len(values) {
	case 0:
		return "", fmt.Errorf("%w: no authorization header", ErrNoCredentials)
	case 1:
	default:
		return "", fmt.Errorf("%w: %d authorization headers; send one", ErrInvalid, len(values))
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: authorization scheme is not Bearer", ErrNoCredentials)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", fmt.Errorf("%w: empty bearer token", ErrInvalid)
	}
	return token, nil
}
