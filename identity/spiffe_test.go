package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// pki is a test certificate authority issuing X.509-SVIDs.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test trust domain CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &pki{cert: cert, key: key, pool: pool}
}

// issue returns a client certificate with the given URI SANs.
func (p *pki) issue(t *testing.T, isCA bool, uris ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IsCA:        isCA, BasicConstraintsValid: true,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	for _, u := range uris {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// handshake runs a real TLS handshake in memory, the server verifying
// client certificates against p (or not, with verify false), and returns
// the server's view of the connection.
func (p *pki) handshake(t *testing.T, client *tls.Certificate, verify bool) *tls.ConnectionState {
	t.Helper()
	serverCert := p.issue(t, false, "spiffe://example.org/server")
	auth := tls.RequireAndVerifyClientCert
	if !verify {
		auth = tls.RequireAnyClientCert
	}
	if client == nil {
		auth = tls.NoClientCert
	}
	cs, cc := net.Pipe()
	defer cs.Close()
	defer cc.Close()
	srv := tls.Server(cs, &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: auth, ClientCAs: p.pool, MinVersion: tls.VersionTLS13})
	cfg := &tls.Config{RootCAs: p.pool, ServerName: "ignored", InsecureSkipVerify: true, MinVersion: tls.VersionTLS13} //nolint:gosec // the test checks the server side only
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	cli := tls.Client(cc, cfg)
	errc := make(chan error, 1)
	go func() { errc <- cli.Handshake() }()
	if err := srv.Handshake(); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	st := srv.ConnectionState()
	return &st
}

func spiffeVerifier(t *testing.T) identity.Verifier {
	t.Helper()
	table, err := identity.SPIFFETable(map[string]tollgate.Agent{
		"spiffe://example.org/ns/tickets/sa/worker": {ID: "worker-agent", Version: "3.0.0", Owner: "ops-team"},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewSPIFFE(table)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSPIFFEAccepts(t *testing.T) {
	p := newPKI(t)
	cert := p.issue(t, false, "spiffe://example.org/ns/tickets/sa/worker")
	got, err := spiffeVerifier(t).Verify(context.Background(), identity.Credentials{
		TLS:     p.handshake(t, &cert, true),
		Claimed: tollgate.Agent{ID: "admin-agent"}, // ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "worker-agent" || got.Version != "3.0.0" || got.Owner != "ops-team" || got.IsDelegated() {
		t.Fatalf("agent = %+v", got)
	}
}

func TestSPIFFERefuses(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	ok := p.issue(t, false, "spiffe://example.org/ns/tickets/sa/worker")
	foreign := other.issue(t, false, "spiffe://example.org/ns/tickets/sa/worker")
	tests := []struct {
		name  string
		state func() *tls.ConnectionState
		want  error
		msg   string
	}{
		{"no TLS", func() *tls.ConnectionState { return nil }, identity.ErrNoCredentials, "no client certificate"},
		{"TLS without a client certificate", func() *tls.ConnectionState { return p.handshake(t, nil, true) }, identity.ErrNoCredentials, "no client certificate"},
		{"certificate not verified", func() *tls.ConnectionState { return p.handshake(t, &ok, false) }, identity.ErrInvalid, "not verified"},
		{"certificate from another CA, unverified", func() *tls.ConnectionState { return p.handshake(t, &foreign, false) }, identity.ErrInvalid, "not verified"},
		{"unknown SPIFFE ID", func() *tls.ConnectionState {
			c := p.issue(t, false, "spiffe://example.org/ns/tickets/sa/intruder")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "not a known agent"},
		{"other trust domain", func() *tls.ConnectionState {
			c := p.issue(t, false, "spiffe://evil.org/ns/tickets/sa/worker")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "not a known agent"},
		{"no URI SAN", func() *tls.ConnectionState { c := p.issue(t, false); return p.handshake(t, &c, true) }, identity.ErrInvalid, "exactly one URI SAN"},
		{"two URI SANs", func() *tls.ConnectionState {
			c := p.issue(t, false, "spiffe://example.org/ns/tickets/sa/worker", "spiffe://example.org/admin")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "exactly one URI SAN"},
		{"not a SPIFFE URI", func() *tls.ConnectionState {
			c := p.issue(t, false, "https://example.org/ns/tickets/sa/worker")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "not a SPIFFE ID"},
		{"upper-case trust domain", func() *tls.ConnectionState {
			c := p.issue(t, false, "spiffe://Example.org/ns/tickets/sa/worker")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "trust domain"},
		{"dot-dot path", func() *tls.ConnectionState {
			c := p.issue(t, false, "spiffe://example.org/ns/../sa/worker")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "path segments"},
		{"CA certificate as leaf", func() *tls.ConnectionState {
			c := p.issue(t, true, "spiffe://example.org/ns/tickets/sa/worker")
			return p.handshake(t, &c, true)
		}, identity.ErrInvalid, "CA certificate"},
	}
	v := spiffeVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), identity.Credentials{TLS: tt.state()})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
			if got.ID != "" {
				t.Errorf("refused, yet returned %+v", got)
			}
		})
	}
}

func TestSPIFFEMapperFunc(t *testing.T) {
	p := newPKI(t)
	cert := p.issue(t, false, "spiffe://example.org/agents/router")
	state := p.handshake(t, &cert, true)
	v, err := identity.NewSPIFFE(identity.SPIFFEMapperFunc(func(_ context.Context, id string) (tollgate.Agent, error) {
		name, ok := strings.CutPrefix(id, "spiffe://example.org/agents/")
		if !ok {
			return tollgate.Agent{}, identity.ErrInvalid
		}
		if name == "router" {
			return tollgate.Agent{}, nil // a mapper bug: an agent without an ID
		}
		return tollgate.Agent{ID: name}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), identity.Credentials{TLS: state}); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("agent without ID: err = %v", err)
	}
	cert = p.issue(t, false, "spiffe://example.org/agents/worker")
	got, err := v.Verify(context.Background(), identity.Credentials{TLS: p.handshake(t, &cert, true)})
	if err != nil || got.ID != "worker" {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestSPIFFEConfigErrors(t *testing.T) {
	if _, err := identity.NewSPIFFE(nil); err == nil {
		t.Error("NewSPIFFE(nil) succeeded")
	}
	for _, tt := range []struct {
		table map[string]tollgate.Agent
		want  string
	}{
		{map[string]tollgate.Agent{"spiffe://example.org/a": {}}, "without an ID"},
		{map[string]tollgate.Agent{"spiffe://example.org/a/": {ID: "a"}}, "path segments"},
		{map[string]tollgate.Agent{"spiffe://example.org:443/a": {ID: "a"}}, "trust domain"},
		{map[string]tollgate.Agent{"spiffe://user@example.org/a": {ID: "a"}}, "trust domain"},
		{map[string]tollgate.Agent{"spiffe://example.org/a?x=1": {ID: "a"}}, "path segments"},
		{map[string]tollgate.Agent{"spiffe:///a": {ID: "a"}}, "trust domain"},
		{map[string]tollgate.Agent{"SPIFFE://example.org/a": {ID: "a"}}, "not a SPIFFE ID"},
		{map[string]tollgate.Agent{"spiffe://example.org/" + strings.Repeat("a", 2048): {ID: "a"}}, "longer than"},
	} {
		if _, err := identity.SPIFFETable(tt.table); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tt.table, err, tt.want)
		}
	}
	// The table is copied: changing the caller's map changes nothing.
	agents := map[string]tollgate.Agent{"spiffe://example.org": {ID: "td-agent", DelegatedBy: []string{"root"}}}
	m, err := identity.SPIFFETable(agents)
	if err != nil {
		t.Fatal(err)
	}
	agents["spiffe://example.org"].DelegatedBy[0] = "changed"
	delete(agents, "spiffe://example.org")
	if a, err := m.MapSPIFFE(context.Background(), "spiffe://example.org"); err != nil || a.DelegatedBy[0] != "root" {
		t.Fatalf("%+v, %v", a, err)
	}
}
