package registry_test

import (
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate/registry"
)

const (
	compatManifest = "testdata/security_hardened/manifest.yaml"
	compatKey      = "manifest-signing-key-12345" // MANIFEST_SECRET in Tollgate's demo.py
	compatHash     = "c1625488eb10e018228989f163c04320d87ef110f9e76e1c75c69dc70cf9b1ac"
)

// copyManifest copies the compat manifest (and, if sig, its .sig) into a
// temporary directory and returns the manifest path.
func copyManifest(t *testing.T, sig bool) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "manifest.yaml")
	files := map[string]string{compatManifest: dst}
	if sig {
		files[compatManifest+".sig"] = dst + ".sig"
	}
	for src, dst := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantSignatureError checks for Tollgate's exact refusal.
func wantSignatureError(t *testing.T, err error, path string) {
	t.Helper()
	want := "Manifest signature verification failed for " + path + ". The manifest may have been tampered with, or the signature file (.sig) is missing."
	if err == nil || err.Error() != want || !errors.Is(err, registry.ErrSignature) {
		t.Fatalf("err = %v; want %q matching ErrSignature", err, want)
	}
}

func TestLoadCompatSignature(t *testing.T) {
	m, err := registry.Load(compatManifest, registry.WithHMACKey([]byte(compatKey)))
	if err != nil {
		t.Fatalf("the compat .sig does not verify: %v", err)
	}
	if m.Hash() != compatHash {
		t.Errorf("Hash() = %s, want %s", m.Hash(), compatHash)
	}
	data, _ := os.ReadFile(compatManifest)
	sig, _ := os.ReadFile(compatManifest + ".sig")
	if got := registry.SignHMAC(data, []byte(compatKey)); got != string(sig) {
		t.Errorf("SignHMAC = %s, want the compat .sig %s", got, sig)
	}
	if len(sig) != 64 {
		t.Errorf("compat .sig is %d bytes, want 64", len(sig))
	}
}

func TestLoadSignatureRefusals(t *testing.T) {
	key := registry.WithHMACKey([]byte(compatKey))

	t.Run("wrong key", func(t *testing.T) {
		_, err := registry.Load(compatManifest, registry.WithHMACKey([]byte("wrong-key")))
		wantSignatureError(t, err, compatManifest)
	})
	t.Run("one byte changed", func(t *testing.T) {
		path := copyManifest(t, true)
		data, _ := os.ReadFile(path)
		data[2] ^= 0x01 // inside the leading comment, so the file still parses
		write(t, path, string(data))
		_, err := registry.Load(path, key)
		wantSignatureError(t, err, path)
		// Without a key nothing is checked, as in Tollgate.
		if _, err := registry.Load(path); err != nil {
			t.Errorf("Load without key: %v", err)
		}
	})
	t.Run("missing sig", func(t *testing.T) {
		path := copyManifest(t, false)
		_, err := registry.Load(path, key)
		wantSignatureError(t, err, path)
	})
	t.Run("upper-case hex", func(t *testing.T) {
		path := copyManifest(t, true)
		sig, _ := os.ReadFile(path + ".sig")
		write(t, path+".sig", strings.ToUpper(string(sig)))
		_, err := registry.Load(path, key)
		wantSignatureError(t, err, path)
	})
	t.Run("empty sig", func(t *testing.T) {
		path := copyManifest(t, true)
		write(t, path+".sig", "")
		_, err := registry.Load(path, key)
		wantSignatureError(t, err, path)
	})
	t.Run("sig is a directory", func(t *testing.T) {
		path := copyManifest(t, false)
		if err := os.Mkdir(path+".sig", 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := registry.Load(path, key)
		wantSignatureError(t, err, path)
	})
}

func TestLoadSignatureWhitespaceTolerated(t *testing.T) {
	path := copyManifest(t, true)
	sig, _ := os.ReadFile(path + ".sig")
	write(t, path+".sig", string(sig)+"\n")
	if _, err := registry.Load(path, registry.WithHMACKey([]byte(compatKey))); err != nil {
		t.Errorf("trailing newline in .sig refused: %v", err)
	}
}

func TestLoadSignaturePath(t *testing.T) {
	path := copyManifest(t, true)
	other := filepath.Join(t.TempDir(), "detached.sig")
	if err := os.Rename(path+".sig", other); err != nil {
		t.Fatal(err)
	}
	key := registry.WithHMACKey([]byte(compatKey))
	if _, err := registry.Load(path, key, registry.WithSignaturePath(other)); err != nil {
		t.Errorf("WithSignaturePath: %v", err)
	}
	_, err := registry.Load(path, key)
	wantSignatureError(t, err, path)
}

func TestLoadEd25519(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	path := copyManifest(t, false)
	data, _ := os.ReadFile(path)
	write(t, path+".sig", registry.SignEd25519(data, priv)+"\n")

	m, err := registry.Load(path, registry.WithEd25519Key(pub))
	if err != nil {
		t.Fatalf("Ed25519 round trip: %v", err)
	}
	if m.Hash() != compatHash {
		t.Errorf("Hash() = %s", m.Hash())
	}
	_, err = registry.Load(path, registry.WithEd25519Key(otherPub))
	wantSignatureError(t, err, path)

	// An HMAC key does not accept an Ed25519 signature, and vice versa.
	_, err = registry.Load(path, registry.WithHMACKey([]byte(compatKey)))
	wantSignatureError(t, err, path)
	_, err = registry.Load(compatManifest, registry.WithEd25519Key(pub))
	wantSignatureError(t, err, compatManifest)

	// With both keys configured either signature is accepted (migration).
	both := []registry.Option{registry.WithHMACKey([]byte(compatKey)), registry.WithEd25519Key(pub)}
	if _, err := registry.Load(path, both...); err != nil {
		t.Errorf("both keys, Ed25519 signature: %v", err)
	}
	if _, err := registry.Load(compatManifest, both...); err != nil {
		t.Errorf("both keys, HMAC signature: %v", err)
	}

	data[2] ^= 0x01
	write(t, path, string(data))
	_, err = registry.Load(path, registry.WithEd25519Key(pub))
	wantSignatureError(t, err, path)
}

func TestLoadOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  registry.Option
		want string
	}{
		{"empty HMAC key", registry.WithHMACKey(nil), "key is empty"},
		{"short Ed25519 key", registry.WithEd25519Key(make([]byte, 31)), "31 bytes"},
		{"empty signature path", registry.WithSignaturePath(""), "path is empty"},
	}
	for _, tt := range tests {
		if _, err := registry.Load(compatManifest, tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := registry.Load(missing)
	if err == nil || !strings.HasPrefix(err.Error(), "Manifest file not found: "+missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	// A missing manifest is "not found" even when a key is configured.
	_, err = registry.Load(missing, registry.WithHMACKey([]byte("k")))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file with key: err = %v", err)
	}
	if _, err := registry.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: err = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "m.yaml")
	write(t, bad, "tools:\n  a:\n    effect: maybe\n")
	if _, err := registry.Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":3:13: Invalid effect 'maybe'") {
		t.Errorf("invalid manifest: err = %v", err)
	}
}

func TestLoadKeyCopied(t *testing.T) {
	key := []byte(compatKey)
	opt := registry.WithHMACKey(key)
	copy(key, "XXXX")
	if _, err := registry.Load(compatManifest, opt); err != nil {
		t.Errorf("changing the caller's key buffer changed the option: %v", err)
	}
}
