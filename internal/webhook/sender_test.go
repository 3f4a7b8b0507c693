package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is an endpoint on 127.0.0.1 that answers with the queued status
// codes (then 200) and records what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	headers  []http.Header
	srv      *httptest.Server
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		r.headers = append(r.headers, req.Header.Clone())
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if status/100 == 3 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() ([]string, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies), slices.Clone(r.headers)
}

// sleeps records the backoff waits without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func newSender(t *testing.T, url string, opts ...Option) *Sender {
	t.Helper()
	s, err := New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain closes s, which waits for every queued delivery.
func drain(t *testing.T, s *Sender) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSendSignsBody(t *testing.T) {
	r := newReceiver(t)
	secret := []byte("s3cret")
	at := time.Unix(1_800_000_000, 0)
	s := newSender(t, r.srv.URL, WithSecret(secret), WithClock(func() time.Time { return at }),
		WithHeaders(map[string]string{"X-Team": "ops", HeaderSignature: "forged", HeaderTimestamp: "0"}))
	if err := s.Send([]byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	bodies, headers := r.got()
	if len(bodies) != 1 || bodies[0] != `{"n":1}` {
		t.Fatalf("bodies = %q", bodies)
	}
	h := headers[0]
	got := h.Get(HeaderSignature)
	if want := Sign(secret, []byte(bodies[0]), at); got != want || !strings.HasPrefix(got, "t=1800000000,v1=") {
		t.Errorf("signature %q, want %q", got, want)
	}
	if err := Verify(secret, []byte(bodies[0]), got, at.Add(time.Minute), DefaultTolerance); err != nil {
		t.Errorf("the receiver's check fails: %v", err)
	}
	if got := h.Get(HeaderTimestamp); got != "1800000000" {
		t.Errorf("timestamp %q", got)
	}
	if h.Get("Content-Type") != "application/json" || h.Get("X-Team") != "ops" {
		t.Errorf("headers %v", h)
	}
	if st := s.Stats(); st != (Stats{Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestUnsignedWithoutSecret(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, r.srv.URL)
	if err := s.Send([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if _, headers := r.got(); len(headers) != 1 || headers[0].Get(HeaderSignature) != "" {
		t.Errorf("headers %v, want one request without a signature", headers)
	}
}

func TestRetriesWithBackoffThenSucceeds(t *testing.T) {
	r := newReceiver(t, 500, 503, 429)
	var sl sleeps
	s := newSender(t, r.srv.URL, WithSleep(sl.sleep), WithRetries(5))
	if err := s.Send([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if bodies, _ := r.got(); len(bodies) != 4 {
		t.Errorf("%d attempts, want 4", len(bodies))
	}
	if want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}; !slices.Equal(sl.d, want) {
		t.Errorf("backoff %v, want %v", sl.d, want)
	}
	if st := s.Stats(); st != (Stats{Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestGivesUpAfterRetries(t *testing.T) {
	r := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	var sl sleeps
	s := newSender(t, r.srv.URL, WithSleep(sl.sleep), WithRetries(2))
	if err := s.Send([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if bodies, _ := r.got(); len(bodies) != 3 {
		t.Errorf("%d attempts, want 3 (one and two retries)", len(bodies))
	}
	if st := s.Stats(); st != (Stats{Failed: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	statuses := make([]int, 12)
	for i := range statuses {
		statuses[i] = 502
	}
	r := newReceiver(t, statuses...)
	var sl sleeps
	s := newSender(t, r.srv.URL, WithSleep(sl.sleep), WithRetries(8))
	_ = s.Send([]byte(`{}`))
	drain(t, s)
	if len(sl.d) != 8 || sl.d[7] != backoffMax || sl.d[6] != backoffMax || sl.d[5] != backoffMax {
		t.Errorf("backoff %v, want doubling up to %v", sl.d, backoffMax)
	}
}

func TestFinalStatusesAndRedirectsAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 404, 302} {
		r := newReceiver(t, status)
		var sl sleeps
		s := newSender(t, r.srv.URL, WithSleep(sl.sleep))
		_ = s.Send([]byte(`{}`))
		drain(t, s)
		bodies, _ := r.got()
		if len(bodies) != 1 || len(sl.d) != 0 {
			t.Errorf("status %d: %d requests (a redirect must not be followed), %d sleeps", status, len(bodies), len(sl.d))
		}
		if st := s.Stats(); st != (Stats{Failed: 1}) {
			t.Errorf("status %d: stats %+v", status, st)
		}
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	r := newReceiver(t)
	url := r.srv.URL
	r.srv.Close() // nothing listens there now
	var sl sleeps
	s := newSender(t, url, WithSleep(sl.sleep), WithRetries(1))
	_ = s.Send([]byte(`{}`))
	drain(t, s)
	if len(sl.d) != 1 || s.Stats() != (Stats{Failed: 1}) {
		t.Errorf("sleeps %v, stats %+v; want one retry, then failed", sl.d, s.Stats())
	}
}

// blockingReceiver holds every request until release is closed.
func blockingReceiver(t testing.TB) (url string, arrived <-chan struct{}, release chan struct{}) {
	arr := make(chan struct{}, 16)
	release = make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice a client that gives up.
		_, _ = io.Copy(io.Discard, r.Body)
		arr <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, arr, release
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	url, arrived, release := blockingReceiver(t)
	s := newSender(t, url, WithQueueSize(1))
	if err := s.Send([]byte(`1`)); err != nil {
		t.Fatal(err)
	}
	<-arrived // the first body is being delivered: the queue is empty
	if err := s.Send([]byte(`2`)); err != nil {
		t.Fatalf("second body: %v", err)
	}
	if err := s.Send([]byte(`3`)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third body: %v, want ErrQueueFull", err)
	}
	close(release)
	drain(t, s)
	if st := s.Stats(); st != (Stats{Delivered: 2, Dropped: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestCloseGivesUpWhenContextEnds(t *testing.T) {
	url, arrived, _ := blockingReceiver(t)
	s := newSender(t, url)
	for _, b := range []string{"1", "2", "3"} {
		if err := s.Send([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close: %v, want context.Canceled", err)
	}
	if st := s.Stats(); st != (Stats{Failed: 1, Dropped: 2}) {
		t.Errorf("stats %+v: the abandoned delivery fails, the rest are dropped", st)
	}
	if err := s.Send([]byte(`4`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if err := s.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		url  string
		opts []Option
		want string
	}{
		"empty URL":      {"", nil, "absolute http"},
		"relative URL":   {"/hook", nil, "absolute http"},
		"ftp URL":        {"ftp://example.com/x", nil, "absolute http"},
		"bad URL":        {"http://[::1", nil, "absolute http"},
		"empty secret":   {"http://127.0.0.1/", []Option{WithSecret(nil)}, "secret must not be empty"},
		"nil client":     {"http://127.0.0.1/", []Option{WithHTTPClient(nil)}, "client must not be nil"},
		"zero queue":     {"http://127.0.0.1/", []Option{WithQueueSize(0)}, "at least 1"},
		"negative retry": {"http://127.0.0.1/", []Option{WithRetries(-1)}, "must not be negative"},
		"nil clock":      {"http://127.0.0.1/", []Option{WithClock(nil)}, "must not be nil"},
		"nil sleep":      {"http://127.0.0.1/", []Option{WithSleep(nil)}, "must not be nil"},
	} {
		s, err := New(tc.url, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tc.want)
		}
		if s != nil {
			t.Errorf("%s: a Sender was returned with the error", name)
		}
	}
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(context.Background(), 0); err != nil {
		t.Errorf("zero wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled wait: %v", err)
	}
}

func BenchmarkSend(b *testing.B) {
	url, _, release := blockingReceiver(b)
	s, err := New(url, WithQueueSize(1))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"type":"approval.created"}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Send(body) // mostly the drop path: the receiver holds the first delivery
	}
	close(release)
	_ = s.Close(context.Background())
}
