package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

func (a *app) keygenCmd() *cobra.Command {
	var (
		prefix string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Create an Ed25519 key pair: PREFIX.key, PREFIX.pub and PREFIX.jwks.json",
		Long: `keygen creates an Ed25519 key pair for signing manifests (and agent tokens):

  PREFIX.key        private key, PKCS#8 PEM, mode 0600: keep it secret
  PREFIX.pub        public key, PKIX PEM, for 'manifest verify --pub'
  PREFIX.jwks.json  the public key as a JWKS (kty OKP, crv Ed25519, alg EdDSA,
                    use sig) with kid = base64url of the first 8 bytes of the
                    SHA-256 of the public key, for 'manifest verify --jwks'

Existing files are never overwritten unless --force is given.`,
		Example: `  tollgate keygen --out release
  tollgate manifest sign manifest.yaml --key release.key
  tollgate manifest verify manifest.yaml --pub release.pub`,
		Args: args(0, "no arguments (use --out PREFIX)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if prefix == "" {
				return usageError(cmd, "--out PREFIX must not be empty")
			}
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			files, err := keyFiles(prefix, pub, priv)
			if err != nil {
				return err
			}
			if err := writeNew(files, force); err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(a.stdout, "wrote %s\n", f.path)
			}
			fmt.Fprintf(a.stdout, "kid %s\n", keyID(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "out", "", "`PREFIX` of the files to write (required)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

type outFile struct {
	path string
	data []byte
	mode fs.FileMode
}

func keyFiles(prefix string, pub ed25519.PublicKey, priv ed25519.PrivateKey) ([]outFile, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	set, err := json.MarshalIndent(newJWKS(pub), "", "  ")
	if err != nil {
		return nil, err
	}
	return []outFile{
		{prefix + ".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600},
		{prefix + ".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644},
		{prefix + ".jwks.json", append(set, '\n'), 0o644},
	}, nil
}

// writeNew writes files, refusing (before writing any) when one exists and
// force is false. Without force each file is created exclusively, so a file
// appearing meanwhile is not overwritten either.
func writeNew(files []outFile, force bool) error {
	if !force {
		for _, f := range files {
			if _, err := os.Lstat(f.path); err == nil {
				return fmt.Errorf("%s already exists; use --force to overwrite it", f.path)
			}
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	for _, f := range files {
		if err := writeFile(f, flags); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(f outFile, flags int) error {
	fh, err := os.OpenFile(f.path, flags, f.mode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; use --force to overwrite it", f.path)
		}
		return err
	}
	// The mode given to OpenFile only applies to new files (and is masked
	// by the umask): set it explicitly so an overwritten key is 0600 too.
	if err := fh.Chmod(f.mode); err != nil {
		fh.Close()
		return err
	}
	if _, err := fh.Write(f.data); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
