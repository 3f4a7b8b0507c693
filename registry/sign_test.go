package registry_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"regexp"
	"testing"

	"github.com/tollgate-go/tollgate/registry"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestHMAC(t *testing.T) {
	data := []byte("version: '1'\n")
	key := []byte("secret")
	sig := registry.SignHMAC(data, key)
	if !hex64.MatchString(sig) {
		t.Fatalf("SignHMAC = %q, want 64 lower-case hex", sig)
	}
	tests := []struct {
		name string
		data []byte
		sig  string
		key  []byte
		want bool
	}{
		{"valid", data, sig, key, true},
		{"surrounding whitespace", data, " " + sig + "\r\n", key, true},
		{"wrong key", data, sig, []byte("other"), false},
		{"modified data", []byte("version: '2'\n"), sig, key, false},
		{"upper-case hex", data, upper(sig), key, false},
		{"truncated", data, sig[:63], key, false},
		{"non-ASCII", data, sig[:62] + "é", key, false}, // Tollgate raised here
		{"empty key", data, registry.SignHMAC(data, nil), nil, false},
		{"empty sig", data, "", key, false},
	}
	for _, tt := range tests {
		if got := registry.VerifyHMAC(tt.data, tt.sig, tt.key); got != tt.want {
			t.Errorf("%s: VerifyHMAC = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestEd25519(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	data := []byte("tools: {}\n")
	sig := registry.SignEd25519(data, priv)
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		t.Fatalf("SignEd25519 = %q: not base64 of 64 bytes (%v)", sig, err)
	}
	tests := []struct {
		name string
		data []byte
		sig  string
		pub  ed25519.PublicKey
		want bool
	}{
		{"valid", data, sig, pub, true},
		{"trailing newline", data, sig + "\n", pub, true},
		{"wrong key", data, sig, otherPub, false},
		{"modified data", []byte("tools: {a: {}}\n"), sig, pub, false},
		{"not base64", data, "!!" + sig[2:], pub, false},
		{"short signature", data, base64.StdEncoding.EncodeToString(raw[:63]), pub, false},
		{"raw-url base64", data, base64.RawURLEncoding.EncodeToString(raw), pub, false},
		{"malformed key", data, sig, pub[:16], false},
		{"nil key", data, sig, nil, false},
	}
	for _, tt := range tests {
		if got := registry.VerifyEd25519(tt.data, tt.sig, tt.pub); got != tt.want {
			t.Errorf("%s: VerifyEd25519 = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := registry.SignEd25519(data, priv[:10]); got != "" {
		t.Errorf("SignEd25519 with a malformed key = %q, want empty", got)
	}
}

func TestHash(t *testing.T) {
	a := registry.Hash([]byte("a"))
	if !hex64.MatchString(a) || a != registry.Hash([]byte("a")) {
		t.Errorf("Hash = %q, want stable 64 lower-case hex", a)
	}
	if a == registry.Hash([]byte("b")) {
		t.Error("different content, same hash")
	}
	if got := registry.Hash(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("Hash(nil) = %s", got)
	}
}
