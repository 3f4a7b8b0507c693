package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate/identity"
)

// keygenJWKS is a JWKS exactly as tollgate keygen writes it.
const keygenJWKS = `{
  "keys": [
    {
      "kty": "OKP",
      "crv": "Ed25519",
      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
      "kid": "If4x36FUomE",
      "alg": "EdDSA",
      "use": "sig"
    }
  ]
}
`

func TestJWKSFileReadsKeygenOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "release.jwks.json")
	if err := os.WriteFile(path, []byte(keygenJWKS), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := identity.NewJWKSFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.Key(context.Background(), "If4x36FUomE")
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := k.Public.(ed25519.PublicKey)
	if !ok || k.Algorithm != identity.AlgEdDSA || k.ID != identity.KeyID(pub) {
		t.Fatalf("key = %+v; kid %q should be KeyID of the key", k, identity.KeyID(pub))
	}
	if _, err := keys.Key(context.Background(), "other"); !errors.Is(err, identity.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
}

func TestKeyIDMatchesKeygen(t *testing.T) {
	// RFC 8032 test vector 1's public key.
	pub, _ := base64.StdEncoding.DecodeString("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	if got := identity.KeyID(pub); got != "If4x36FUomE" {
		t.Fatalf("KeyID = %q", got)
	}
}

func TestJWKSParsing(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecBytes, _ := ec.PublicKey.Bytes() // 0x04 || x || y
	ecJWK := map[string]string{
		"kty": "EC", "crv": "P-256", "kid": "ec-1", "alg": "ES256",
		"x": base64.RawURLEncoding.EncodeToString(ecBytes[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(ecBytes[33:]),
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	ed := jwk(agentKey)
	rsa := map[string]string{"kty": "RSA", "kid": "rsa-1", "n": "AQAB", "e": "AQAB"}

	good := []struct {
		name  string
		keys  []any
		kids  []string
		algos []string
	}{
		{"Ed25519", []any{ed}, []string{agentKID}, []string{identity.AlgEdDSA}},
		{"P-256", []any{ecJWK}, []string{"ec-1"}, []string{identity.AlgES256}},
		{"no alg or use", []any{with(ed, "alg", "", "use", "")}, []string{agentKID}, []string{identity.AlgEdDSA}},
		{"RSA and encryption keys skipped", []any{rsa, with(jwk(foreignKey), "use", "enc"), ed}, []string{agentKID}, []string{identity.AlgEdDSA}},
		{"P-384 skipped", []any{with(ecJWK, "crv", "P-384"), ed}, []string{agentKID}, []string{identity.AlgEdDSA}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := identity.NewJWKSFile(writeJWKS(t, tt.keys...))
			if err != nil {
				t.Fatal(err)
			}
			for i, kid := range tt.kids {
				k, err := keys.Key(context.Background(), kid)
				if err != nil || k.Algorithm != tt.algos[i] {
					t.Fatalf("kid %s: %+v, %v", kid, k, err)
				}
			}
			if _, err := keys.Key(context.Background(), "rsa-1"); !errors.Is(err, identity.ErrUnknownKey) {
				t.Errorf("skipped key served: %v", err)
			}
		})
	}

	bad := []struct {
		name string
		data string
		want string
	}{
		{"private key", string(jwksJSON(t, with(ed, "d", "c2VjcmV0"))), "private key"},
		{"short x", string(jwksJSON(t, with(ed, "x", "AAAA"))), `"x" is not 32 bytes`},
		{"padded x", string(jwksJSON(t, with(ed, "x", ed["x"]+"="))), `"x" is not 32 bytes`},
		{"point off the curve", string(jwksJSON(t, with(ecJWK, "y", ecJWK["x"]))), "not a P-256 public key"},
		{"missing y", string(jwksJSON(t, with(ecJWK, "y", ""))), `"y" is not 32 bytes`},
		{"alg does not fit", string(jwksJSON(t, with(ed, "alg", "HS256"))), `"alg" "HS256" does not fit`},
		{"ES256 alg on Ed25519", string(jwksJSON(t, with(ed, "alg", "ES256"))), "does not fit"},
		{"no kid", string(jwksJSON(t, with(ed, "kid", ""))), `no "kid"`},
		{"duplicate kid", string(jwksJSON(t, ed, ed)), "appears twice"},
		{"no usable keys", string(jwksJSON(t, rsa)), "no usable keys"},
		{"empty", `{"keys":[]}`, "no usable keys"},
		{"not JSON", `keys`, "not a JWKS"},
		{"keys not a list", `{"keys":{}}`, "not a JWKS"},
		{"key not an object", `{"keys":[1]}`, "key 0"},
		{"too large", `{"keys":[` + strings.Repeat(" ", 1<<20) + `]}`, "over"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			keys, err := identity.NewJWKSFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || keys != nil {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestJWKSFileReloadKeepsKeysOnError(t *testing.T) {
	path := writeJWKS(t, jwk(agentKey))
	keys, err := identity.NewJWKSFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFile(path, []byte("{broken")); err != nil {
		t.Fatal(err)
	}
	if err := keys.Reload(); err == nil {
		t.Fatal("Reload of a broken file succeeded")
	}
	if _, err := keys.Key(context.Background(), agentKID); err != nil {
		t.Fatalf("keys lost after a failed reload: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := keys.Reload(); err == nil {
		t.Fatal("Reload of a missing file succeeded")
	}
	if _, err := identity.NewJWKSFile(path); err == nil {
		t.Fatal("NewJWKSFile of a missing file succeeded")
	}
}

func TestNewKeySet(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		keys []identity.Key
		want string
	}{
		{"none", nil, "at least one"},
		{"no id", []identity.Key{{Public: agentKey.Public()}}, `no "kid"`},
		{"duplicate", []identity.Key{{ID: "a", Public: agentKey.Public()}, {ID: "a", Public: foreignKey.Public()}}, "twice"},
		{"wrong algorithm", []identity.Key{{ID: "a", Algorithm: identity.AlgES256, Public: agentKey.Public()}}, "does not fit"},
		{"P-384", []identity.Key{{ID: "a", Public: &ec.PublicKey}}, "P-256"},
		{"HMAC secret", []identity.Key{{ID: "a", Public: []byte("secret")}}, "unsupported key type"},
		{"private key", []identity.Key{{ID: "a", Public: agentKey}}, "unsupported key type"},
		{"short Ed25519", []identity.Key{{ID: "a", Public: ed25519.PublicKey{1, 2}}}, "2 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := identity.NewKeySet(tt.keys...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
