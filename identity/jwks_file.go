package identity

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// JWKSFile is a KeySet read from a JWKS file, such as the PREFIX.jwks.json
// that tollgate keygen writes. Rotate keys by adding the new key to the
// file, calling Reload, moving the signers to it, and, once the tokens
// signed by the old key have expired, removing that key and calling Reload
// again. Removing a key refuses every token it signed at once, including
// tokens the verifier had cached. It is safe for concurrent use.
type JWKSFile struct {
	path string
	keys atomic.Pointer[keyMap]
}

// NewJWKSFile reads the JWKS at path.
func NewJWKSFile(path string) (*JWKSFile, error) {
	f := &JWKSFile{path: path}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload reads the file again. When it fails the keys in use are kept and
// the error says why.
func (f *JWKSFile) Reload() error {
	keys, err := readJWKSFile(f.path)
	if err != nil {
		return err
	}
	f.keys.Store(&keys)
	return nil
}

// Key returns the key with id kid.
func (f *JWKSFile) Key(ctx context.Context, kid string) (Key, error) {
	return (*f.keys.Load()).Key(ctx, kid)
}

func readJWKSFile(path string) (keyMap, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: read JWKS: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("identity: read JWKS %s: %w", path, err)
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("identity: JWKS %s is over %d bytes", path, maxJWKSSize)
	}
	keys, err := parseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("identity: JWKS %s: %w", path, err)
	}
	return keys, nil
}
