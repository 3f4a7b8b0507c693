package audit

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

// maxKeyFile bounds what ReadCheckpointKey reads: a PEM Ed25519 key is
// about 120 bytes.
const maxKeyFile = 64 << 10

// ReadCheckpointKey reads an Ed25519 private key in PKCS#8 PEM — tollgate
// keygen's PREFIX.key — for WithCheckpointKey.
func ReadCheckpointKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint key: %w", err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("audit: checkpoint key %s: larger than %d bytes, not a PEM key", path, maxKeyFile)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf(`audit: checkpoint key %s: want a "PRIVATE KEY" PEM block (tollgate keygen's PREFIX.key)`, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint key %s: not a PKCS#8 private key: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit: checkpoint key %s: a %T, want an Ed25519 key (create one with tollgate keygen)", path, k)
	}
	return priv, nil
}
