package registry

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Hash returns the SHA-256 of data as lower-case hex. Manifest.Hash is
// Hash of the manifest's raw bytes (Tollgate's get_manifest_hash).
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// SignHMAC returns Tollgate's manifest signature for data: the lower-case
// hex HMAC-SHA256 under key, 64 characters, the whole content of a
// Tollgate .sig file.
func SignHMAC(data, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(data)
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyHMAC reports whether sig, the text of a .sig file, is SignHMAC(data,
// key). Surrounding whitespace (a trailing newline) is ignored; the
// comparison is constant-time and, as in Tollgate, case-sensitive, so
// upper-case hex does not verify. An empty key never verifies: anyone can
// compute a MAC under it.
func VerifyHMAC(data []byte, sig string, key []byte) bool {
	if len(key) == 0 {
		return false
	}
	return hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(SignHMAC(data, key)))
}

// SignEd25519 returns the detached Ed25519 signature of data as standard
// base64 text, the content of a .sig file. It returns "" when priv is not
// an Ed25519 private key, which no key verifies.
func SignEd25519(data []byte, priv ed25519.PrivateKey) string {
	if len(priv) != ed25519.PrivateKeySize {
		return ""
	}
	return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, data))
}

// VerifyEd25519 reports whether sig (standard base64 of a 64-byte Ed25519
// signature; surrounding whitespace ignored) signs data under pub. A
// malformed key or signature does not verify.
func VerifyEd25519(data []byte, sig string, pub ed25519.PublicKey) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(sig))
	if err != nil || len(raw) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, data, raw)
}
