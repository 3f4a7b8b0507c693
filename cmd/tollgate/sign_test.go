package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compatKey signs security_hardened/manifest.yaml.sig (demo.py's
// MANIFEST_SECRET).
const compatKey = "manifest-signing-key-12345"

type keyPaths struct{ prefix, priv, pub, jwks string }

// newKeys runs keygen in a fresh directory.
func newKeys(t testing.TB) keyPaths {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "release")
	if r := cli(t, nil, "keygen", "--out", prefix); r.code != 0 {
		t.Fatalf("keygen: %+v", r)
	}
	return keyPaths{prefix, prefix + ".key", prefix + ".pub", prefix + ".jwks.json"}
}

func TestCompatHMACSignature(t *testing.T) {
	t.Setenv("MANIFEST_SECRET", compatKey)
	dir := copyTestdata(t, "manifest.yaml", "manifest.yaml.sig")
	m := filepath.Join(dir, "manifest.yaml")
	r := cli(t, nil, "manifest", "verify", m, "--hmac-secret-env", "MANIFEST_SECRET").want(t, 0)
	if !strings.Contains(r.stdout, "OK: "+m+": valid signature (HMAC-SHA256)") {
		t.Fatalf("stdout %q", r.stdout)
	}

	// Signing again reproduces Tollgate's file byte for byte: hex, no newline.
	out := filepath.Join(dir, "resigned.sig")
	cli(t, nil, "manifest", "sign", m, "--hmac-secret-env", "MANIFEST_SECRET", "--out", out).want(t, 0)
	want, _ := os.ReadFile(filepath.Join("testdata", "manifest.yaml.sig"))
	if got, _ := os.ReadFile(out); string(got) != string(want) || string(want) != "0d54b80a5258b9161a148fde3743b422226beb2ae9f0bb82d24bb3d662b1a672" {
		t.Fatalf("signature %q, want %q", got, want)
	}

	// A wrong key, an upper-case signature and a one-byte change fail.
	t.Setenv("WRONG", "manifest-signing-key-12346")
	cli(t, nil, "manifest", "verify", m, "--hmac-secret-env", "WRONG").want(t, 1).oneLineErr(t, "does not verify (HMAC-SHA256)")
	upper := mkfile(t, filepath.Join(dir, "upper.sig"), []byte(strings.ToUpper(string(want))))
	cli(t, nil, "manifest", "verify", m, "--sig", upper, "--hmac-secret-env", "MANIFEST_SECRET").want(t, 1)
	data, _ := os.ReadFile(m)
	data[100] ^= 1
	mkfile(t, m, data)
	cli(t, nil, "manifest", "verify", m, "--hmac-secret-env", "MANIFEST_SECRET").want(t, 1).oneLineErr(t, "signature "+m+".sig does not verify")
}

func TestSecretsOnlyFromTheEnvironment(t *testing.T) {
	t.Setenv("EMPTY_SECRET", "")
	os.Unsetenv("UNSET_SECRET_FOR_TEST")
	for _, args := range [][]string{
		{"manifest", "verify", "testdata/manifest.yaml", "--hmac-secret-env"},
		{"manifest", "sign", "testdata/manifest.yaml", "--out", filepath.Join(t.TempDir(), "s"), "--hmac-secret-env"},
		{"check", "--policy", "testdata/policy.yaml", "--call", "testdata/test_scenarios.yaml", "--agent-hmac-secret-env"},
	} {
		cli(t, nil, append(args, "EMPTY_SECRET")...).want(t, 2).oneLineErr(t, "environment variable EMPTY_SECRET is empty")
		cli(t, nil, append(args, "UNSET_SECRET_FOR_TEST")...).want(t, 2).oneLineErr(t, "environment variable UNSET_SECRET_FOR_TEST is not set")
	}
}

func TestEd25519RoundTrip(t *testing.T) {
	keys := newKeys(t)
	dir := copyTestdata(t, "manifest.yaml")
	m := filepath.Join(dir, "manifest.yaml")
	r := cli(t, nil, "manifest", "sign", m, "--key", keys.priv).want(t, 0)
	if !strings.Contains(r.stdout, m+".sig") {
		t.Fatalf("stdout %q", r.stdout)
	}
	sig, _ := os.ReadFile(m + ".sig")
	if raw, err := base64.StdEncoding.DecodeString(string(sig)); err != nil || len(raw) != ed25519.SignatureSize {
		t.Fatalf("signature file %q", sig)
	}
	cli(t, nil, "manifest", "verify", m, "--pub", keys.pub).want(t, 0)
	cli(t, nil, "manifest", "verify", m, "--jwks", keys.jwks).want(t, 0)

	// Another key does not verify; a JWKS holding both keys does, by kid.
	other := newKeys(t)
	cli(t, nil, "manifest", "verify", m, "--pub", other.pub).want(t, 1).oneLineErr(t, "does not verify")
	cli(t, nil, "manifest", "verify", m, "--jwks", other.jwks).want(t, 1).oneLineErr(t, "none of the 1 Ed25519 keys")
	both := mergeJWKS(t, filepath.Join(dir, "both.jwks.json"), other.jwks, keys.jwks)
	r = cli(t, nil, "manifest", "verify", m, "--jwks", both).want(t, 0)
	if !strings.Contains(r.stdout, "kid "+kidOf(t, keys.pub)) {
		t.Fatalf("stdout %q", r.stdout)
	}

	// A one-byte change to the manifest or the signature fails.
	data, _ := os.ReadFile(m)
	mkfile(t, filepath.Join(dir, "changed.yaml"), append([]byte("# x\n"), data...))
	copySig := mkfile(t, filepath.Join(dir, "changed.yaml.sig"), sig)
	cli(t, nil, "manifest", "verify", filepath.Join(dir, "changed.yaml"), "--pub", keys.pub).want(t, 1)
	bad := []byte(string(sig))
	bad[10] ^= 1
	mkfile(t, copySig, bad)
	cli(t, nil, "manifest", "verify", m, "--sig", copySig, "--pub", keys.pub).want(t, 1)
}

func TestSignRefusesInvalidManifests(t *testing.T) {
	keys := newKeys(t)
	dir := t.TempDir()
	bad := mkfile(t, filepath.Join(dir, "m.yaml"), []byte("tools:\n  x: {effect: READ}\n"))
	cli(t, nil, "manifest", "sign", bad, "--key", keys.priv).want(t, 2).oneLineErr(t, bad+":2:")
	if _, err := os.Stat(bad + ".sig"); !os.IsNotExist(err) {
		t.Fatalf("a signature was written: %v", err)
	}
	// A public key where the private key belongs, and the other way round.
	cli(t, nil, "manifest", "sign", "testdata/manifest.yaml", "--key", keys.pub, "--out", filepath.Join(dir, "s")).want(t, 2).oneLineErr(t, `PEM block is "PUBLIC KEY", want "PRIVATE KEY"`)
	cli(t, nil, "manifest", "verify", "testdata/manifest.yaml", "--pub", keys.priv).want(t, 2).oneLineErr(t, `want "PUBLIC KEY"`)
	jwks := mkfile(t, filepath.Join(dir, "rsa.jwks.json"), []byte(`{"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}`))
	cli(t, nil, "manifest", "verify", "testdata/manifest.yaml", "--jwks", jwks).want(t, 2).oneLineErr(t, "no Ed25519 keys")
}

func TestManifestHash(t *testing.T) {
	r := cli(t, nil, "manifest", "hash", "testdata/manifest.yaml").want(t, 0)
	if r.stdout != "c1625488eb10e018228989f163c04320d87ef110f9e76e1c75c69dc70cf9b1ac\n" {
		t.Fatalf("hash %q", r.stdout)
	}
}

func TestKeygen(t *testing.T) {
	keys := newKeys(t)
	st, err := os.Stat(keys.priv)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v %v", st.Mode(), err)
	}
	block, _ := pem.Decode(readFileT(t, keys.priv))
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("private key: %v", err)
	}
	block, _ = pem.Decode(readFileT(t, keys.pub))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || block.Type != "PUBLIC KEY" || !pub.(ed25519.PublicKey).Equal(priv.(ed25519.PrivateKey).Public()) {
		t.Fatalf("public key: %v", err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(readFileT(t, keys.jwks), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, set)
	}
	k := set.Keys[0]
	sum := sha256.Sum256(pub.(ed25519.PublicKey))
	wantKid := base64.RawURLEncoding.EncodeToString(sum[:8])
	if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" || k["kid"] != wantKid ||
		k["x"] != base64.RawURLEncoding.EncodeToString(pub.(ed25519.PublicKey)) {
		t.Fatalf("jwk %v, kid want %s", k, wantKid)
	}

	// Existing files are refused, all of them untouched, unless --force.
	before := readFileT(t, keys.priv)
	r := cli(t, nil, "keygen", "--out", keys.prefix).want(t, 2)
	r.oneLineErr(t, keys.priv+" already exists; use --force to overwrite it")
	if string(readFileT(t, keys.priv)) != string(before) {
		t.Fatal("private key overwritten")
	}
	os.Remove(keys.priv)
	cli(t, nil, "keygen", "--out", keys.prefix).want(t, 2).oneLineErr(t, keys.pub+" already exists")
	if _, err := os.Stat(keys.priv); !os.IsNotExist(err) {
		t.Fatal("keygen wrote a file before refusing")
	}
	os.Chmod(keys.pub, 0o644)
	cli(t, nil, "keygen", "--out", keys.prefix, "--force").want(t, 0)
	if st, _ := os.Stat(keys.priv); st.Mode().Perm() != 0o600 {
		t.Fatalf("forced private key mode %v", st.Mode())
	}
	cli(t, nil, "keygen", "--out", filepath.Join(t.TempDir(), "no", "such", "dir", "k")).want(t, 2).oneLineErr(t, "no such file or directory")
}

func readFileT(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kidOf(t testing.TB, pubPath string) string {
	t.Helper()
	pub, err := readPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	return keyID(pub)
}

func mergeJWKS(t testing.TB, out string, paths ...string) string {
	t.Helper()
	var all jwks
	for _, p := range paths {
		var set jwks
		if err := json.Unmarshal(readFileT(t, p), &set); err != nil {
			t.Fatal(err)
		}
		all.Keys = append(all.Keys, set.Keys...)
	}
	data, _ := json.Marshal(all)
	return mkfile(t, out, data)
}
