package identity

import (
	"context"
	"crypto/tls"
	"errors"

	"github.com/tollgate-go/tollgate"
)

// Credentials is everything a caller presented that a Verifier may check.
type Credentials struct {
	// Claimed is the agent context the caller asserted. In legacy mode its
	// Metadata["_signature"] carries the Tollgate HMAC signature.
	Claimed tollgate.Agent
	// Header holds gRPC metadata or HTTP headers with lower-case keys, for
	// verifiers that read bearer tokens.
	Header map[string][]string
	// TLS is the peer's TLS state when the transport is TLS (nil otherwise),
	// for verifiers that read client certificates.
	TLS *tls.ConnectionState
}

// Verifier checks Credentials and returns the Agent they prove. The returned
// Agent is what the pipeline trusts; a Verifier must not return credential
// material (such as a signature) inside it, because the Agent is audited.
//
// A Verifier returns an error wrapping ErrNoCredentials when it found no
// credentials of its kind, and one wrapping ErrInvalid when it found some
// and they do not verify. The wrapped detail is for server logs only.
// Implementations must be safe for concurrent use.
type Verifier interface {
	Verify(ctx context.Context, c Credentials) (tollgate.Agent, error)
}

// VerifierFunc adapts a function to a Verifier.
type VerifierFunc func(ctx context.Context, c Credentials) (tollgate.Agent, error)

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, c Credentials) (tollgate.Agent, error) {
	return f(ctx, c)
}

var (
	// ErrNoCredentials means the caller presented no credentials the
	// verifier understands. The call is still refused unless another
	// verifier in a Chain accepts it.
	ErrNoCredentials = errors.New("identity: no credentials")
	// ErrInvalid means the caller presented credentials and they did not
	// verify (bad signature, malformed value, wrong key).
	ErrInvalid = errors.New("identity: invalid credentials")
)
