package identity_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate/identity"
)

// keyServer serves a JWKS on 127.0.0.1 and counts the fetches.
type keyServer struct {
	url     string
	fetches atomic.Int32
	mu      sync.Mutex
	status  int
	body    []byte
}

func newKeyServer(t *testing.T, body []byte) *keyServer {
	t.Helper()
	ks := &keyServer{status: http.StatusOK, body: body}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		w.WriteHeader(ks.status)
		_, _ = w.Write(ks.body)
	}))
	t.Cleanup(srv.Close)
	ks.url = srv.URL + "/.well-known/jwks.json"
	return ks
}

func (ks *keyServer) serve(status int, body []byte) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.status, ks.body = status, body
}

func newJWKSURL(t *testing.T, url string, clk *clock, opts ...identity.JWKSOption) *identity.JWKSURL {
	t.Helper()
	opts = append([]identity.JWKSOption{identity.WithClock(clk.Now)}, opts...)
	s, err := identity.NewJWKSURL(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWKSURLCachesAndRefreshes(t *testing.T) {
	ks := newKeyServer(t, jwksJSON(t, jwk(agentKey)))
	clk := newClock(t0)
	keys := newJWKSURL(t, ks.url, clk, identity.WithRefresh(time.Hour))
	ctx := context.Background()

	if ks.fetches.Load() != 0 {
		t.Fatal("NewJWKSURL fetched before a key was needed")
	}
	for range 3 {
		if _, err := keys.Key(ctx, agentKID); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1 (cached)", n)
	}
	clk.Add(time.Hour)
	if _, err := keys.Key(ctx, agentKID); err != nil {
		t.Fatal(err)
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the refresh period, want 2", n)
	}
}

func TestJWKSURLUnknownKidRefreshIsRateLimited(t *testing.T) {
	ks := newKeyServer(t, jwksJSON(t, jwk(agentKey)))
	clk := newClock(t0)
	keys := newJWKSURL(t, ks.url, clk, identity.WithMinRefreshInterval(time.Minute))
	ctx := context.Background()
	if _, err := keys.Key(ctx, agentKID); err != nil {
		t.Fatal(err)
	}

	// The issuer rotates in a new key; a token naming it arrives at once.
	next := testKey(3)
	ks.serve(http.StatusOK, jwksJSON(t, jwk(agentKey), jwk(next)))
	clk.Add(time.Minute)
	if _, err := keys.Key(ctx, kidOf(next)); err != nil {
		t.Fatalf("new kid: %v", err)
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// A flood of made-up kids costs at most one fetch per interval.
	for i := range 100 {
		_, err := keys.Key(ctx, fmt.Sprintf("bogus-%d", i))
		if !errors.Is(err, identity.ErrUnknownKey) {
			t.Fatalf("bogus kid: err = %v, want ErrUnknownKey", err)
		}
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches within the interval, want still 2", n)
	}
	clk.Add(time.Minute)
	if _, err := keys.Key(ctx, "bogus"); !errors.Is(err, identity.ErrUnknownKey) {
		t.Fatal(err)
	}
	if n := ks.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after the interval, want 3", n)
	}
	// Known kids never wait for the limiter.
	if _, err := keys.Key(ctx, agentKID); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSURLFailures(t *testing.T) {
	ctx := context.Background()
	good := jwksJSON(t, jwk(agentKey))

	t.Run("first fetch fails, then recovers", func(t *testing.T) {
		ks := newKeyServer(t, nil)
		ks.serve(http.StatusServiceUnavailable, []byte("down"))
		clk := newClock(t0)
		keys := newJWKSURL(t, ks.url, clk, identity.WithMinRefreshInterval(time.Minute))
		_, err := keys.Key(ctx, agentKID)
		if err == nil || errors.Is(err, identity.ErrUnknownKey) || !strings.Contains(err.Error(), "503") {
			t.Fatalf("err = %v, want the server's failure", err)
		}
		ks.serve(http.StatusOK, good)
		if _, err := keys.Key(ctx, agentKID); err == nil {
			t.Fatal("retried within the interval")
		}
		clk.Add(time.Minute)
		if _, err := keys.Key(ctx, agentKID); err != nil {
			t.Fatalf("after the interval: %v", err)
		}
		if n := ks.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches, want 2", n)
		}
	})

	t.Run("stale keys serve while the server is down", func(t *testing.T) {
		ks := newKeyServer(t, good)
		clk := newClock(t0)
		keys := newJWKSURL(t, ks.url, clk, identity.WithRefresh(time.Hour))
		if _, err := keys.Key(ctx, agentKID); err != nil {
			t.Fatal(err)
		}
		ks.serve(http.StatusInternalServerError, nil)
		clk.Add(2 * time.Hour)
		if _, err := keys.Key(ctx, agentKID); err != nil {
			t.Fatalf("stale key: %v", err)
		}
		if n := ks.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches, want 2 (one failed refresh)", n)
		}
	})

	for _, tt := range []struct {
		name string
		body []byte
		want string
	}{
		{"not a JWKS", []byte("<html>"), "not a JWKS"},
		{"private key", jwksJSON(t, map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": jwk(agentKey)["x"], "d": "x"}), "private key"},
		{"too large", []byte(`{"keys":[` + strings.Repeat(" ", 1<<20) + `]}`), "over"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ks := newKeyServer(t, tt.body)
			_, err := newJWKSURL(t, ks.url, newClock(t0)).Key(ctx, agentKID)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}

	t.Run("server gone", func(t *testing.T) {
		ks := newKeyServer(t, good)
		url := ks.url
		keys := newJWKSURL(t, url, newClock(t0), identity.WithHTTPClient(&http.Client{Transport: failingTransport{}}))
		if _, err := keys.Key(ctx, agentKID); err == nil || errors.Is(err, identity.ErrUnknownKey) {
			t.Fatalf("err = %v", err)
		}
	})
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// While one call refreshes a stale set, the others keep using it rather
// than queue behind the fetch.
func TestJWKSURLStaleKeysServeDuringRefresh(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var blocking atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blocking.Load() {
			close(started)
			<-release
		}
		_, _ = w.Write(jwksJSON(t, jwk(agentKey)))
	}))
	t.Cleanup(srv.Close)
	clk := newClock(t0)
	keys := newJWKSURL(t, srv.URL, clk, identity.WithRefresh(time.Hour))
	ctx := context.Background()
	if _, err := keys.Key(ctx, agentKID); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	blocking.Store(true)
	refreshed := make(chan error, 1)
	go func() { _, err := keys.Key(ctx, agentKID); refreshed <- err }()
	<-started
	if _, err := keys.Key(ctx, agentKID); err != nil {
		t.Fatalf("during the refresh: %v", err)
	}
	close(release)
	if err := <-refreshed; err != nil {
		t.Fatalf("refreshing call: %v", err)
	}
}

// A caller giving up does not abort the fetch that serves everyone.
func TestJWKSURLFetchOutlivesCaller(t *testing.T) {
	ks := newKeyServer(t, jwksJSON(t, jwk(agentKey)))
	keys := newJWKSURL(t, ks.url, newClock(t0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := keys.Key(ctx, agentKID); err != nil {
		t.Fatalf("canceled caller: %v", err)
	}
}

func TestJWKSURLConcurrent(t *testing.T) {
	ks := newKeyServer(t, jwksJSON(t, jwk(agentKey)))
	clk := newClock(t0)
	keys := newJWKSURL(t, ks.url, clk)
	v, err := identity.NewJWTVerifier(keys, identity.WithAudience(testAudience), identity.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	token := mint(t, workerAgent())
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if _, err := v.Verify(context.Background(), bearer(token)); err != nil {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failures.Load() != 0 || ks.fetches.Load() != 1 {
		t.Fatalf("%d failures, %d fetches; want 0 and 1", failures.Load(), ks.fetches.Load())
	}
}

func TestNewJWKSURLRefusesBadConfig(t *testing.T) {
	for _, tt := range []struct {
		url  string
		opts []identity.JWKSOption
		want string
	}{
		{"http://issuer.example/jwks.json", nil, "must be https"},
		{"ftp://issuer.example/jwks.json", nil, "must be https"},
		{"https:///jwks.json", nil, "must be https"},
		{"://bad", nil, "JWKS URL"},
		{"https://issuer.example/jwks.json", []identity.JWKSOption{identity.WithHTTPClient(nil)}, "WithHTTPClient"},
		{"https://issuer.example/jwks.json", []identity.JWKSOption{identity.WithRefresh(0)}, "positive"},
		{"https://issuer.example/jwks.json", []identity.JWKSOption{identity.WithMinRefreshInterval(-1)}, "negative"},
	} {
		if _, err := identity.NewJWKSURL(tt.url, tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.url, err, tt.want)
		}
	}
	for _, ok := range []string{"https://issuer.example/jwks.json", "http://127.0.0.1:8080/jwks", "http://[::1]/jwks", "http://localhost/jwks"} {
		if _, err := identity.NewJWKSURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
