package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-go/tollgate"
)

// maxSPIFFEIDLen is the longest SPIFFE ID accepted (the SPIFFE ID
// specification's limit).
const maxSPIFFEIDLen = 2048

// SPIFFEMapper says which agent a verified SPIFFE ID is.
type SPIFFEMapper interface {
	// MapSPIFFE returns the agent for id ("spiffe://trust-domain/path"),
	// or an error wrapping ErrInvalid when id is not an agent.
	MapSPIFFE(ctx context.Context, id string) (tollgate.Agent, error)
}

// SPIFFEMapperFunc adapts a function to a SPIFFEMapper.
type SPIFFEMapperFunc func(ctx context.Context, id string) (tollgate.Agent, error)

// MapSPIFFE calls f.
func (f SPIFFEMapperFunc) MapSPIFFE(ctx context.Context, id string) (tollgate.Agent, error) {
	return f(ctx, id)
}

// SPIFFETable returns a SPIFFEMapper over a fixed table from SPIFFE ID to
// agent (copied, so later changes to agents have no effect). Every key must
// be a valid SPIFFE ID and every agent must have an ID.
func SPIFFETable(agents map[string]tollgate.Agent) (SPIFFEMapper, error) {
	table := make(spiffeTable, len(agents))
	for id, a := range agents {
		if err := checkSPIFFEID(id); err != nil {
			return nil, fmt.Errorf("identity: SPIFFETable: %w", err)
		}
		if a.ID == "" {
			return nil, fmt.Errorf("identity: SPIFFETable: %s maps to an agent without an ID", id)
		}
		table[id] = a.Clone()
	}
	return table, nil
}

type spiffeTable map[string]tollgate.Agent

func (t spiffeTable) MapSPIFFE(_ context.Context, id string) (tollgate.Agent, error) {
	if a, ok := t[id]; ok {
		return a, nil
	}
	return tollgate.Agent{}, fmt.Errorf("%w: SPIFFE ID %s is not a known agent", ErrInvalid, id)
}

// NewSPIFFE returns a Verifier for mTLS workload identity: the SPIFFE ID of
// the peer's verified X.509-SVID (its one URI SAN), mapped to an agent by m.
//
// The TLS server must verify client certificates (tls.Config.ClientAuth =
// tls.RequireAndVerifyClientCert, ClientCAs = the trust bundle): a
// certificate without a verified chain is refused, never trusted on its
// own say. A connection without a client certificate, or not over TLS, is
// ErrNoCredentials. Put only your own trust domain's bundle in ClientCAs:
// a certificate authority trusted there can issue any SPIFFE ID, including
// IDs of other trust domains. mTLS proves the workload only; the agent
// comes from m and carries no delegation chain unless m gives it one.
func NewSPIFFE(m SPIFFEMapper) (Verifier, error) {
	if m == nil {
		return nil, errors.New("identity: NewSPIFFE needs a SPIFFEMapper (SPIFFETable or SPIFFEMapperFunc)")
	}
	return VerifierFunc(func(ctx context.Context, c Credentials) (tollgate.Agent, error) {
		id, err := peerSPIFFEID(c)
		if err != nil {
			return tollgate.Agent{}, err
		}
		a, err := m.MapSPIFFE(ctx, id)
		if err != nil {
			return tollgate.Agent{}, err
		}
		if a.ID == "" {
			return tollgate.Agent{}, fmt.Errorf("%w: SPIFFE ID %s maps to an agent without an ID", ErrInvalid, id)
		}
		return a.Clone(), nil
	}), nil
}

// peerSPIFFEID returns the SPIFFE ID of the peer's verified leaf
// certificate.
func peerSPIFFEID(c Credentials) (string, error) {
	if c.TLS == nil || len(c.TLS.PeerCertificates) == 0 {
		return "", fmt.Errorf("%w: no client certificate", ErrNoCredentials)
	}
	if len(c.TLS.VerifiedChains) == 0 || len(c.TLS.VerifiedChains[0]) == 0 {
		return "", fmt.Errorf("%w: the client certificate was not verified; set tls.Config.ClientAuth to tls.RequireAndVerifyClientCert with the trust bundle in ClientCAs", ErrInvalid)
	}
	leaf := c.TLS.VerifiedChains[0][0]
	if leaf.IsCA {
		return "", fmt.Errorf("%w: the client certificate is a CA certificate, not an X.509-SVID", ErrInvalid)
	}
	if len(leaf.URIs) != 1 {
		return "", fmt.Errorf("%w: an X.509-SVID has exactly one URI SAN, the client certificate has %d", ErrInvalid, len(leaf.URIs))
	}
	id := leaf.URIs[0].String()
	if err := checkSPIFFEID(id); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return id, nil
}

// checkSPIFFEID checks id against the SPIFFE ID specification:
// "spiffe://" + trust domain ([a-z0-9.-_]) + path segments ([a-zA-Z0-9.-_],
// neither empty, "." nor ".."); no port, user, query or fragment.
func checkSPIFFEID(id string) error {
	rest, ok := strings.CutPrefix(id, "spiffe://")
	switch {
	case len(id) > maxSPIFFEIDLen:
		return fmt.Errorf("SPIFFE ID is longer than %d bytes", maxSPIFFEIDLen)
	case !ok:
		return fmt.Errorf("%q is not a SPIFFE ID (want spiffe://trust-domain/path)", id)
	}
	td, path, hasPath := strings.Cut(rest, "/")
	if td == "" || strings.Trim(td, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" {
		return fmt.Errorf("SPIFFE ID %q: the trust domain must be non-empty lower-case letters, digits, '.', '-' or '_'", id)
	}
	if !hasPath {
		return nil
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || seg == "." || seg == ".." ||
			strings.Trim(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
			return fmt.Errorf("SPIFFE ID %q: path segments must be non-empty, not '.' or '..', and use letters, digits, '.', '-' or '_'", id)
		}
	}
	return nil
}
