package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// secretFromEnv returns the secret held in environment variable name.
// Secrets never come from flag values, which end up in shell history and
// process listings.
func secretFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("environment variable %s is not set; export the secret in it (secrets are never passed as flag values)", name)
	}
	if v == "" {
		return nil, fmt.Errorf("environment variable %s is empty; an empty secret proves nothing", name)
	}
	return []byte(v), nil
}

// readPrivateKey reads a PKCS#8 PEM Ed25519 private key (keygen's .key).
func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	block, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS#8 private key: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, want an Ed25519 key (create one with 'tollgate keygen')", path, k)
	}
	return priv, nil
}

// readPublicKey reads a PKIX PEM Ed25519 public key (keygen's .pub).
func readPublicKey(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKIX public key: %v", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, want an Ed25519 key (create one with 'tollgate keygen')", path, k)
	}
	return pub, nil
}

func readPEM(path, typ string) (*pem.Block, error) {
	data, err := readFile(path, maxKeySize)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block; want a %q PEM file", path, typ)
	}
	if block.Type != typ {
		return nil, fmt.Errorf("%s: PEM block is %q, want %q", path, block.Type, typ)
	}
	return block, nil
}

// jwk is one JSON Web Key; only what Ed25519 keys use (RFC 8037).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

type jwks struct {
	Keys []jwk `json:"keys"`
}

// keyID is a key's kid: base64url of the first 8 bytes of the SHA-256 of
// the raw public key. It is derived, so anyone holding the key computes it.
func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

func newJWKS(pub ed25519.PublicKey) jwks {
	return jwks{Keys: []jwk{{
		Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub),
		Kid: keyID(pub), Alg: "EdDSA", Use: "sig",
	}}}
}

// ed25519Key is a verification key and its kid.
type ed25519Key struct {
	kid string
	pub ed25519.PublicKey
}

// readJWKS returns the Ed25519 keys of a JWKS file; other keys are skipped.
func readJWKS(path string) ([]ed25519Key, error) {
	data, err := readFile(path, maxJWKSSize)
	if err != nil {
		return nil, err
	}
	var set jwks
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%s: not a JWKS (JSON with a \"keys\" list): %v", path, err)
	}
	var keys []ed25519Key
	for i, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: key %d (kid %q): \"x\" is not a base64url Ed25519 public key", path, i, k.Kid)
		}
		keys = append(keys, ed25519Key{kid: k.Kid, pub: x})
	}
	if len(keys) == 0 {
		return nil, errors.New(path + ": no Ed25519 keys (kty OKP, crv Ed25519) in the JWKS")
	}
	return keys, nil
}
