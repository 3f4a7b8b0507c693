package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate/registry"
)

func (a *app) manifestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Sign, verify and hash tool manifests",
		Long: `Manifest signatures are detached, over the manifest's exact bytes, in FILE.sig by
default (as in Tollgate):

  Ed25519  standard base64 of the 64-byte signature (keys from 'tollgate keygen')
  HMAC     Tollgate 1.4.0's lower-case hex HMAC-SHA256 under a shared secret,
           read from an environment variable (never from a flag value)

Every manifest command first checks that FILE is a valid manifest: a file that
does not load is never signed, verified or hashed.`,
		Example: `  tollgate keygen --out release
  tollgate manifest sign manifest.yaml --key release.key
  tollgate manifest verify manifest.yaml --pub release.pub
  MANIFEST_SECRET=... tollgate manifest verify manifest.yaml --hmac-secret-env MANIFEST_SECRET
  tollgate manifest hash manifest.yaml`,
		Args: args(0, "a subcommand: sign, verify or hash"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand: sign, verify or hash")
		},
	}
	cmd.AddCommand(a.manifestSignCmd(), a.manifestVerifyCmd(), a.manifestHashCmd())
	return cmd
}

// readManifest reads a manifest's bytes and checks that they load. Unlike
// the registry (which, as Tollgate, accepts an empty manifest: no tools), it
// refuses an empty file: handed to a command, that is a mistake.
func readManifest(path string) ([]byte, error) {
	data, err := readFile(path, maxConfigSize)
	if err != nil {
		return nil, err
	}
	if _, err := registry.Parse(path, data); err != nil {
		return nil, err
	}
	return data, nil
}

func (a *app) manifestSignCmd() *cobra.Command {
	var keyPath, secretEnv, out string
	cmd := &cobra.Command{
		Use:   "sign FILE (--key PRIV | --hmac-secret-env VAR)",
		Short: "Write a detached signature of a manifest (default FILE.sig)",
		Long: `sign writes a detached signature over the manifest's exact bytes: Ed25519 with
--key (a PKCS#8 PEM key from 'tollgate keygen'), or Tollgate's hex HMAC-SHA256
with the secret in the environment variable named by --hmac-secret-env. The
signature file has no trailing newline, as Tollgate writes it, and replaces any
previous one.`,
		Example: `  tollgate manifest sign manifest.yaml --key release.key
  MANIFEST_SECRET=... tollgate manifest sign manifest.yaml --hmac-secret-env MANIFEST_SECRET
  tollgate manifest sign manifest.yaml --key release.key --out dist/manifest.yaml.sig`,
		Args: args(1, "one argument, the manifest file"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if (keyPath == "") == (secretEnv == "") {
				return usageError(cmd, "give exactly one of --key and --hmac-secret-env")
			}
			data, err := readManifest(argv[0])
			if err != nil {
				return err
			}
			var sig, how string
			if keyPath != "" {
				priv, err := readPrivateKey(keyPath)
				if err != nil {
					return err
				}
				sig = registry.SignEd25519(data, priv)
				how = "Ed25519, kid " + keyID(priv.Public().(ed25519.PublicKey))
			} else {
				secret, err := secretFromEnv(secretEnv)
				if err != nil {
					return err
				}
				sig, how = registry.SignHMAC(data, secret), "HMAC-SHA256"
			}
			if out == "" {
				out = argv[0] + ".sig"
			}
			if err := replaceFile(out, []byte(sig)); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "signed %s (%s): %s\n", argv[0], how, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "Ed25519 private key `PRIV` (PKCS#8 PEM)")
	f.StringVar(&secretEnv, "hmac-secret-env", "", "sign with Tollgate's HMAC-SHA256, secret in environment variable `VAR`")
	f.StringVar(&out, "out", "", "signature file `SIG` (default FILE.sig)")
	return cmd
}

func (a *app) manifestVerifyCmd() *cobra.Command {
	var sigPath, pubPath, jwksPath, secretEnv string
	cmd := &cobra.Command{
		Use:   "verify FILE (--pub PUB | --jwks FILE | --hmac-secret-env VAR)",
		Short: "Check a manifest's detached signature (exit 0 valid, 1 invalid, 2 error)",
		Long: `verify checks the signature in --sig (default FILE.sig) over the manifest's exact
bytes: Ed25519 with --pub (PKIX PEM) or with any Ed25519 key of a JWKS file
(--jwks), or Tollgate's hex HMAC-SHA256 with the secret in the environment
variable named by --hmac-secret-env. A trailing newline in the signature file is
ignored; upper-case hex is not accepted (as in Tollgate).

Exit codes: 0 valid, 1 the signature does not verify, 2 error (a file missing,
unreadable or invalid, a bad key, an unset secret).`,
		Example: `  tollgate manifest verify manifest.yaml --pub release.pub
  tollgate manifest verify manifest.yaml --jwks release.jwks.json --sig dist/manifest.yaml.sig
  MANIFEST_SECRET=... tollgate manifest verify manifest.yaml --hmac-secret-env MANIFEST_SECRET`,
		Args: args(1, "one argument, the manifest file"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			given := 0
			for _, s := range []string{pubPath, jwksPath, secretEnv} {
				if s != "" {
					given++
				}
			}
			if given != 1 {
				return usageError(cmd, "give exactly one of --pub, --jwks and --hmac-secret-env")
			}
			data, err := readManifest(argv[0])
			if err != nil {
				return err
			}
			if sigPath == "" {
				sigPath = argv[0] + ".sig"
			}
			sigData, err := readFile(sigPath, maxKeySize)
			if err != nil {
				return err
			}
			if !isText(sigData, true) {
				return fmt.Errorf("%s: not a text file (binary data), want a signature", sigPath)
			}
			sig := string(sigData)
			var ok bool
			var how string
			switch {
			case pubPath != "":
				pub, err := readPublicKey(pubPath)
				if err != nil {
					return err
				}
				ok, how = registry.VerifyEd25519(data, sig, pub), "Ed25519, kid "+keyID(pub)
			case jwksPath != "":
				keys, err := readJWKS(jwksPath)
				if err != nil {
					return err
				}
				how = fmt.Sprintf("none of the %d Ed25519 keys in %s", len(keys), jwksPath)
				for _, k := range keys {
					if registry.VerifyEd25519(data, sig, k.pub) {
						ok, how = true, "Ed25519, kid "+k.kid
						break
					}
				}
			default:
				secret, err := secretFromEnv(secretEnv)
				if err != nil {
					return err
				}
				ok, how = registry.VerifyHMAC(data, sig, secret), "HMAC-SHA256"
			}
			if !ok {
				return fail(exitFailed, fmt.Errorf("%s: signature %s does not verify (%s): the manifest or its signature was changed, or the key is wrong", argv[0], sigPath, how))
			}
			fmt.Fprintf(a.stdout, "OK: %s: valid signature (%s) in %s\n", argv[0], how, sigPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sigPath, "sig", "", "signature file `SIG` (default FILE.sig)")
	f.StringVar(&pubPath, "pub", "", "Ed25519 public key `PUB` (PKIX PEM)")
	f.StringVar(&jwksPath, "jwks", "", "JWKS `FILE`: any of its Ed25519 keys may have signed")
	f.StringVar(&secretEnv, "hmac-secret-env", "", "verify Tollgate's HMAC-SHA256, secret in environment variable `VAR`")
	return cmd
}

func (a *app) manifestHashCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hash FILE",
		Short: "Print the SHA-256 of a manifest's bytes (Tollgate's get_manifest_hash)",
		Long: `hash prints the lower-case hex SHA-256 of the manifest's exact bytes, the value
Tollgate's get_manifest_hash returns, for audit trails and release notes.`,
		Example: `  tollgate manifest hash manifest.yaml`,
		Args:    args(1, "one argument, the manifest file"),
		RunE: func(_ *cobra.Command, argv []string) error {
			data, err := readManifest(argv[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, registry.Hash(data))
			return nil
		},
	}
}

// replaceFile writes data to path through a temporary file and a rename, so
// a reader never sees a half-written signature.
func replaceFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
