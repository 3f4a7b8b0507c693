package registry

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// maxSignatureSize bounds the .sig file: a signature is 64 hex or 88 base64
// characters; anything much larger is not a signature.
const maxSignatureSize = 4096

// ErrSignature is matched (errors.Is) by the error Load returns when a key
// is configured and the signature is missing or does not verify.
var ErrSignature = errors.New("manifest signature verification failed")

// signatureError carries Tollgate's exact message, which log searches and
// tests written for Tollgate look for.
type signatureError struct{ path string }

func (e *signatureError) Error() string {
	return fmt.Sprintf("Manifest signature verification failed for %s. The manifest may have been tampered with, or the signature file (.sig) is missing.", e.path)
}

func (e *signatureError) Is(target error) bool { return target == ErrSignature }

// Option configures Load.
type Option func(*loadOptions)

type loadOptions struct {
	hmacKey    []byte
	hmacSet    bool
	edKey      ed25519.PublicKey
	edSet      bool
	sigPath    string
	sigPathSet bool
}

// WithHMACKey requires the manifest to carry Tollgate's signature: a .sig
// file holding the lower-case hex HMAC-SHA256 of the manifest's bytes under
// key. An empty key is refused (a MAC under an empty key proves nothing).
func WithHMACKey(key []byte) Option {
	key = append([]byte(nil), key...) // the caller may reuse its buffer
	return func(o *loadOptions) { o.hmacKey, o.hmacSet = key, true }
}

// WithEd25519Key requires the manifest to carry a detached Ed25519
// signature by the holder of pub: a .sig file holding the standard base64
// of the 64-byte signature over the manifest's bytes (see SignEd25519).
//
// With both WithHMACKey and WithEd25519Key the signature must verify under
// one of them, so a deployment can move from HMAC to Ed25519 without a
// flag day.
func WithEd25519Key(pub ed25519.PublicKey) Option {
	pub = append(ed25519.PublicKey(nil), pub...)
	return func(o *loadOptions) { o.edKey, o.edSet = pub, true }
}

// WithSignaturePath sets where the signature is read from. The default is
// the manifest path with ".sig" appended, as in Tollgate.
func WithSignaturePath(p string) Option {
	return func(o *loadOptions) { o.sigPath, o.sigPathSet = p, true }
}

func (o *loadOptions) check() error {
	if o.hmacSet && len(o.hmacKey) == 0 {
		return errors.New("registry: WithHMACKey: the key is empty; set the shared manifest-signing key (a MAC under an empty key proves nothing)")
	}
	if o.edSet && len(o.edKey) != ed25519.PublicKeySize {
		return fmt.Errorf("registry: WithEd25519Key: the key is %d bytes; an Ed25519 public key is %d bytes", len(o.edKey), ed25519.PublicKeySize)
	}
	if o.sigPathSet && o.sigPath == "" {
		return errors.New("registry: WithSignaturePath: the path is empty")
	}
	return nil
}

// verified reports whether sig verifies data under a configured key.
func (o *loadOptions) verified(data []byte, sig string) bool {
	return (o.hmacSet && VerifyHMAC(data, sig, o.hmacKey)) ||
		(o.edSet && VerifyEd25519(data, sig, o.edKey))
}

// Load reads, verifies and parses the manifest at path.
//
// The file is read once: when a key is configured the signature is checked
// on exactly the bytes that are then parsed, so the file cannot be swapped
// between the check and the parse (Tollgate read it twice). With a key, a
// missing or wrong signature refuses the manifest with an error matching
// ErrSignature; without one no signature is looked at.
func Load(path string, opts ...Option) (*Manifest, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	data, err := yamlx.ReadLimited(path, yamlx.MaxFileSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("Manifest file not found: %s: %w", path, fs.ErrNotExist)
		}
		return nil, err
	}
	if o.hmacSet || o.edSet {
		sigPath := path + ".sig"
		if o.sigPathSet {
			sigPath = o.sigPath
		}
		sig, err := yamlx.ReadLimited(sigPath, maxSignatureSize)
		if err != nil || !o.verified(data, string(sig)) {
			return nil, &signatureError{path: path}
		}
	}
	return Parse(path, data)
}
