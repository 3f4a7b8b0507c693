package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"
)

// The signature algorithms agent tokens may use.
const (
	AlgEdDSA = "EdDSA" // Ed25519 (RFC 8037)
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
)

// ErrUnknownKey means a token names a "kid" the key set does not hold.
var ErrUnknownKey = errors.New("identity: unknown key id")

// Key is a public key that verifies agent tokens.
type Key struct {
	ID        string           // the "kid" tokens name it by
	Algorithm string           // AlgEdDSA or AlgES256
	Public    crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey on P-256
}

// KeySet finds the key a token names. Implementations must be safe for
// concurrent use.
type KeySet interface {
	// Key returns the key with id kid, or an error wrapping ErrUnknownKey
	// when there is none. Other errors mean the set could not be consulted
	// (a key server is down) and refuse the call as well.
	Key(ctx context.Context, kid string) (Key, error)
}

// KeySetFunc adapts a function to a KeySet.
type KeySetFunc func(ctx context.Context, kid string) (Key, error)

// Key calls f.
func (f KeySetFunc) Key(ctx context.Context, kid string) (Key, error) { return f(ctx, kid) }

// NewKeySet returns a fixed KeySet holding keys. An empty Algorithm is
// derived from the key type. It fails on a key without an ID, a repeated
// ID, an unsupported key type or an Algorithm that does not fit the key.
func NewKeySet(keys ...Key) (KeySet, error) {
	set := make(keyMap, len(keys))
	for i, k := range keys {
		alg, err := keyAlgorithm(k.Public)
		if err != nil {
			return nil, fmt.Errorf("identity: key %d (kid %q): %w", i, k.ID, err)
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			return nil, fmt.Errorf("identity: key %d (kid %q): algorithm %q does not fit a %s key", i, k.ID, k.Algorithm, alg)
		}
		k.Algorithm = alg
		if err := set.add(k); err != nil {
			return nil, fmt.Errorf("identity: key %d: %w", i, err)
		}
	}
	if len(set) == 0 {
		return nil, errors.New("identity: NewKeySet needs at least one key")
	}
	return set, nil
}

// keyAlgorithm returns the only algorithm a public key verifies, so that a
// token cannot pick how its key is used.
func keyAlgorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("Ed25519 public key is %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		return AlgEdDSA, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return "", errors.New("ECDSA key is not on P-256 (only ES256 is supported)")
		}
		return AlgES256, nil
	}
	return "", fmt.Errorf("unsupported key type %T (want ed25519.PublicKey or *ecdsa.PublicKey on P-256)", pub)
}

// sameKey reports whether a and b are the same public key.
func sameKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// keyMap is a fixed set of keys by kid.
type keyMap map[string]Key

func (m keyMap) add(k Key) error {
	if k.ID == "" {
		return errors.New(`key has no "kid"; tokens select keys by kid`)
	}
	if _, dup := m[k.ID]; dup {
		return fmt.Errorf("kid %q appears twice", k.ID)
	}
	m[k.ID] = k
	return nil
}

func (m keyMap) Key(_ context.Context, kid string) (Key, error) {
	if k, ok := m[kid]; ok {
		return k, nil
	}
	return Key{}, fmt.Errorf("%w %q", ErrUnknownKey, kid)
}
