package identity

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
)

// DefaultTokenTTL is how long a Signer's tokens live unless WithTTL says
// otherwise.
const DefaultTokenTTL = 5 * time.Minute

// Signer mints short-lived agent tokens for one agent: the client half of
// JWTVerifier. Token reuses its token until two thirds of its lifetime
// have passed, then mints the next one, so a token on the wire always has
// at least a third of its lifetime left. Token is safe for concurrent use
// and fits interceptor.WithTokenSource:
//
//	interceptor.UnaryClientInterceptor(interceptor.WithTokenSource(signer.Token))
type Signer struct {
	key    crypto.Signer
	method jwt.SigningMethod
	kid    string
	cfg    signerConfig
	// static is the part of the payload that never changes.
	static tokenClaims

	mu        sync.Mutex
	token     string
	refreshAt time.Time
}

type signerConfig struct {
	audience    []string
	issuer      string
	ttl         time.Duration
	maxLifetime time.Duration
	now         func() time.Time
	singleUse   bool
}

// NewSigner returns a Signer for agent, signing with key under kid: an
// ed25519.PrivateKey (EdDSA) or any crypto.Signer whose public key is
// Ed25519 or ECDSA P-256 (ES256), such as a KMS or HSM key. The agent's
// ID, Version, Owner, DelegatedBy (root first), Metadata and SessionID
// (the "sid" claim, which session kill switches match) become the
// token's claims (see Claims). WithAudience is required; WithTTL may not
// exceed the maximum token lifetime (WithMaxTokenLifetime).
func NewSigner(key crypto.Signer, kid string, agent tollgate.Agent, opts ...SignerOption) (*Signer, error) {
	cfg := signerConfig{ttl: DefaultTokenTTL, maxLifetime: DefaultMaxTokenLifetime, now: time.Now}
	for _, o := range opts {
		o.applySigner(&cfg)
	}
	if key == nil {
		return nil, errors.New("identity: NewSigner needs a private key")
	}
	method, err := signingMethod(key.Public())
	if err != nil {
		return nil, fmt.Errorf("identity: NewSigner: %w", err)
	}
	switch {
	case kid == "":
		return nil, errors.New("identity: NewSigner needs the key's kid, as the verifier's JWKS names it")
	case len(cfg.audience) == 0 || slices.Contains(cfg.audience, ""):
		return nil, errors.New("identity: NewSigner needs WithAudience(name of the service the tokens are for)")
	case cfg.ttl <= 0:
		return nil, fmt.Errorf("identity: WithTTL(%v) must be positive", cfg.ttl)
	}
	if err := checkMaxLifetime(cfg.maxLifetime); err != nil {
		return nil, err
	}
	if cfg.ttl > cfg.maxLifetime {
		return nil, fmt.Errorf("identity: WithTTL(%v) is over the %v maximum token lifetime, so verifiers would refuse the tokens; "+
			"shorten it, or raise WithMaxTokenLifetime here and on every verifier", cfg.ttl, cfg.maxLifetime)
	}
	if err := checkAgent(agent); err != nil {
		return nil, fmt.Errorf("identity: NewSigner: %w", err)
	}
	static := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: cfg.issuer, Subject: agent.ID, Audience: cfg.audience},
		Version:          agent.Version,
		Owner:            agent.Owner,
		Session:          agent.SessionID,
	}
	if act := actChain(agent.DelegatedBy); act != nil {
		if static.Act, err = json.Marshal(act); err != nil {
			return nil, fmt.Errorf("identity: NewSigner: delegation chain: %w", err)
		}
	}
	if len(agent.Metadata) > 0 {
		if static.Meta, err = json.Marshal(agent.Metadata); err != nil {
			return nil, fmt.Errorf("identity: NewSigner: metadata: %w", err)
		}
	}
	return &Signer{key: key, method: method, kid: kid, cfg: cfg, static: static}, nil
}

// signingMethod picks the algorithm from the key, as the verifier does.
func signingMethod(pub crypto.PublicKey) (jwt.SigningMethod, error) {
	alg, err := keyAlgorithm(pub)
	if err != nil {
		return nil, err
	}
	if alg == AlgEdDSA {
		return jwt.SigningMethodEdDSA, nil // signs with any crypto.Signer
	}
	return es256Signer{}, nil
}

// Token returns a token valid for at least a third of the TTL, minting a
// new one when needed (with WithSingleUse, on every call).
func (s *Signer) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	now := s.cfg.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cfg.singleUse && s.token != "" && now.Before(s.refreshAt) {
		return s.token, nil
	}
	token, err := s.mint(now)
	if err != nil {
		return "", err
	}
	s.token, s.refreshAt = token, now.Add(s.cfg.ttl*2/3)
	return token, nil
}

// mint signs a token issued at now.
func (s *Signer) mint(now time.Time) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("identity: token id: %w", err)
	}
	c := s.static
	c.ID = base64.RawURLEncoding.EncodeToString(id[:])
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = c.IssuedAt
	c.ExpiresAt = jwt.NewNumericDate(now.Add(s.cfg.ttl))
	t := jwt.NewWithClaims(s.method, &c)
	t.Header["kid"] = s.kid
	token, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("identity: sign token: %w", err)
	}
	return token, nil
}

// es256Signer signs ES256 with any crypto.Signer (jwt's own method needs
// an *ecdsa.PrivateKey), turning its ASN.1 signature into JWS's r||s.
type es256Signer struct{}

func (es256Signer) Alg() string { return AlgES256 }

func (es256Signer) Verify(string, []byte, any) error {
	return errors.New("identity: es256Signer only signs")
}

func (es256Signer) Sign(signingString string, key any) ([]byte, error) {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	digest := sha256.Sum256([]byte(signingString))
	der, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 {
		return nil, errors.New("identity: ECDSA signer returned a malformed signature")
	}
	out := make([]byte, 64)
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, errors.New("identity: ECDSA signer returned an out-of-range signature")
	}
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// KeyID returns the kid tollgate keygen gives an Ed25519 public key:
// base64url of the first 8 bytes of the SHA-256 of the raw key. It is
// derived, so anyone holding the key computes the same kid.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}
