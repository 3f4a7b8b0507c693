package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of NewJWKSURL.
const (
	DefaultJWKSRefresh    = time.Hour
	DefaultJWKSMinRefresh = 30 * time.Second
	defaultJWKSTimeout    = 10 * time.Second
)

// JWKSURL is a KeySet fetched from an issuer's JWKS endpoint and cached.
//
// The first call that needs a key fetches the set; later calls use the
// cached set until it is older than the refresh period (WithRefresh). A
// token naming a kid the cached set lacks triggers a fetch too, so a key
// the issuer just added works at once. Fetches are serialised and at most
// one happens per WithMinRefreshInterval, whatever callers send. When a
// fetch fails the keys already fetched stay in use; with none fetched yet,
// calls are refused until a fetch succeeds. It is safe for concurrent use.
type JWKSURL struct {
	url string
	cfg jwksURLConfig

	state atomic.Pointer[jwksState]

	mu          sync.Mutex // held while fetching; guards the fields below
	lastAttempt time.Time
	lastErr     error
}

type jwksURLConfig struct {
	client     *http.Client
	refresh    time.Duration
	minRefresh time.Duration
	now        func() time.Time
}

// jwksState is one fetched key set.
type jwksState struct {
	keys    keyMap
	fetched time.Time
}

// NewJWKSURL returns a KeySet fetched from rawURL, which must be https (or
// http to a loopback address, for tests and sidecars). Nothing is fetched
// until a key is needed.
func NewJWKSURL(rawURL string, opts ...JWKSOption) (*JWKSURL, error) {
	cfg := jwksURLConfig{
		client:     &http.Client{Timeout: defaultJWKSTimeout},
		refresh:    DefaultJWKSRefresh,
		minRefresh: DefaultJWKSMinRefresh,
		now:        time.Now,
	}
	for _, o := range opts {
		o.applyJWKS(&cfg)
	}
	if err := checkJWKSURL(rawURL); err != nil {
		return nil, err
	}
	if cfg.client == nil {
		return nil, errors.New("identity: WithHTTPClient(nil); pass a client or leave the option out")
	}
	if cfg.refresh <= 0 || cfg.minRefresh < 0 {
		return nil, fmt.Errorf("identity: JWKS refresh %v must be positive and the minimum interval %v not negative", cfg.refresh, cfg.minRefresh)
	}
	return &JWKSURL{url: rawURL, cfg: cfg}, nil
}

func checkJWKSURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("identity: JWKS URL: %w", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("identity: JWKS URL %q must be https (http only to a loopback address): keys fetched in clear text can be replaced on the way", rawURL)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Key returns the key with id kid, fetching the set when it is missing,
// stale, or lacks kid.
func (s *JWKSURL) Key(ctx context.Context, kid string) (Key, error) {
	st := s.state.Load()
	var k Key
	found := false
	if st != nil {
		k, found = st.keys[kid]
	}
	switch {
	case found && s.cfg.now().Sub(st.fetched) < s.cfg.refresh:
		return k, nil
	case found: // stale: refresh, unless another call already is
		if !s.mu.TryLock() {
			return k, nil
		}
	default:
		s.mu.Lock()
	}
	st, err := s.refreshLocked(ctx, st)
	s.mu.Unlock()
	if st == nil {
		return Key{}, err
	}
	if k, ok := st.keys[kid]; ok {
		return k, nil
	}
	if err != nil {
		return Key{}, fmt.Errorf("%w %q at %s (refreshing the set failed: %v)", ErrUnknownKey, kid, s.url, err)
	}
	return Key{}, fmt.Errorf("%w %q at %s", ErrUnknownKey, kid, s.url)
}

// refreshLocked fetches the set unless another call replaced seen
// meanwhile or the last attempt was too recent. It returns the set to use
// (nil when none was ever fetched) and the error of the latest fetch, if
// that failed. s.mu must be held.
func (s *JWKSURL) refreshLocked(ctx context.Context, seen *jwksState) (*jwksState, error) {
	if cur := s.state.Load(); cur != seen {
		return cur, nil
	}
	now := s.cfg.now()
	if !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < s.cfg.minRefresh {
		return seen, s.lastErr
	}
	s.lastAttempt = now
	// The fetch serves every caller, so one caller giving up must not
	// abort it (and then rate-limit everyone); the client's timeout bounds it.
	keys, err := s.fetch(context.WithoutCancel(ctx))
	if err != nil {
		s.lastErr = err
		return seen, err
	}
	st := &jwksState{keys: keys, fetched: now}
	s.state.Store(st)
	s.lastErr = nil
	return st, nil
}

func (s *JWKSURL) fetch(ctx context.Context) (keyMap, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("identity: fetch JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.cfg.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("identity: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("identity: fetch JWKS %s: HTTP %s", s.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("identity: fetch JWKS %s: %w", s.url, err)
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("identity: JWKS at %s is over %d bytes", s.url, maxJWKSSize)
	}
	keys, err := parseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("identity: JWKS at %s: %w", s.url, err)
	}
	return keys, nil
}
