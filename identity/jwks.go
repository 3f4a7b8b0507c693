package identity

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// maxJWKSSize bounds a JWKS document, read from a file or a server.
const maxJWKSSize = 1 << 20

// jsonWebKey holds the JWK members this package reads (RFC 7517, 7518,
// 8037). D is read only to refuse private keys.
type jsonWebKey struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// parseJWKS reads the verification keys of a JWKS document: OKP/Ed25519
// keys for EdDSA and EC/P-256 keys for ES256. Keys of other types or
// curves, and keys whose "use" is not "sig", are skipped, so a JWKS shared
// with other systems works. Everything else that is wrong fails the whole
// document: a damaged key set must not silently lose keys.
func parseJWKS(data []byte) (keyMap, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf(`not a JWKS (a JSON object with a "keys" list): %w`, err)
	}
	set := keyMap{}
	for i, raw := range doc.Keys {
		var jwk jsonWebKey
		if err := json.Unmarshal(raw, &jwk); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		k, ok, err := jwk.key()
		if err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, jwk.Kid, err)
		}
		if !ok {
			continue
		}
		if err := set.add(k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
	}
	if len(set) == 0 {
		return nil, errors.New("no usable keys: want OKP/Ed25519 or EC/P-256 keys with use \"sig\" (tollgate keygen writes one)")
	}
	return set, nil
}

// key returns the verification key j describes; ok is false for a key this
// package does not use.
func (j *jsonWebKey) key() (Key, bool, error) {
	if j.D != "" {
		return Key{}, false, errors.New(`holds private key material ("d"); publish only public keys`)
	}
	if j.Use != "" && j.Use != "sig" {
		return Key{}, false, nil
	}
	var k Key
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		x, err := decodeCoordinate(j.X, "x", ed25519.PublicKeySize)
		if err != nil {
			return Key{}, false, err
		}
		k = Key{ID: j.Kid, Algorithm: AlgEdDSA, Public: ed25519.PublicKey(x)}
	case j.Kty == "EC" && j.Crv == "P-256":
		x, err := decodeCoordinate(j.X, "x", 32)
		if err != nil {
			return Key{}, false, err
		}
		y, err := decodeCoordinate(j.Y, "y", 32)
		if err != nil {
			return Key{}, false, err
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return Key{}, false, fmt.Errorf("not a P-256 public key: %w", err)
		}
		k = Key{ID: j.Kid, Algorithm: AlgES256, Public: pub}
	default:
		return Key{}, false, nil
	}
	if j.Alg != "" && j.Alg != k.Algorithm {
		return Key{}, false, fmt.Errorf("\"alg\" %q does not fit a %s/%s key (want %q)", j.Alg, j.Kty, j.Crv, k.Algorithm)
	}
	if k.ID == "" {
		return Key{}, false, errors.New(`key has no "kid"; tokens select keys by kid`)
	}
	return k, true, nil
}

func decodeCoordinate(s, name string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != size {
		return nil, fmt.Errorf("%q is not %d bytes of unpadded base64url", name, size)
	}
	return b, nil
}
