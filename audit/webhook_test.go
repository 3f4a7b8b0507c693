package audit

import (
	"context"
	"crypto/hmac"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
)

// receiver is a webhook endpoint on 127.0.0.1 that answers with the queued
// status codes (then 200) and records what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	headers  []http.Header
	srv      *httptest.Server
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
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

func (r *receiver) requests() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies, r.headers
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

func blocked(i int) *Event {
	e := testEvent(i)
	e.Outcome = tollgate.OutcomeBlocked
	return e
}

func closeWebhook(t *testing.T, w *Webhook) {
	t.Helper()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookPostsSignedEvent(t *testing.T) {
	rcv := newReceiver(t)
	secret := []byte("s3cret")
	now := time.Unix(1770262286, 0)
	w, err := NewWebhook(rcv.srv.URL, WithSecret(secret), WithClock(func() time.Time { return now }),
		WithHeaders(map[string]string{"X-Team": "sec", "X-Tollgate-Signature": "forged"}))
	if err != nil {
		t.Fatal(err)
	}
	e := blocked(1)
	e.ToolRequest.Params = tollgate.Params{{Key: "token", Value: "t-value"}}
	e.Agent.Metadata = tollgate.Params{{Key: "_signature", Value: "sig-value"}}
	if err := w.Emit(ctx, e); err != nil {
		t.Fatal(err)
	}
	closeWebhook(t, w)

	bodies, headers := rcv.requests()
	if len(bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(bodies))
	}
	body, h := bodies[0], headers[0]
	if want := string(DefaultRedactor.Event(e).AppendJSON(nil)); string(body) != want {
		t.Errorf("body:\n got %s\nwant %s", body, want)
	}
	if strings.Contains(string(body), "t-value") || strings.Contains(string(body), "sig-value") {
		t.Errorf("secret sent: %s", body)
	}
	sig := h.Get("X-Tollgate-Signature")
	m := hmac.New(sha256New, secret)
	m.Write([]byte("1770262286." + string(body)))
	if !hmac.Equal([]byte(sig), []byte("t=1770262286,v1="+hexString(m.Sum(nil)))) || sig != Signature(secret, body, now) {
		t.Errorf("signature %q does not verify", sig)
	}
	if err := VerifySignature(secret, body, sig, now.Add(time.Minute), DefaultSignatureTolerance); err != nil {
		t.Errorf("VerifySignature: %v", err)
	}
	// A replay: the same body with a fresh timestamp and the old v1.
	replayed := "t=1770265886," + sig[len("t=1770262286,"):]
	if err := VerifySignature(secret, body, replayed, now.Add(time.Hour), DefaultSignatureTolerance); err == nil {
		t.Error("a replay with a new timestamp verifies")
	}
	if err := VerifySignature(secret, body, sig, now.Add(time.Hour), DefaultSignatureTolerance); err == nil {
		t.Error("an hour-old delivery verifies")
	}
	if h.Get("Content-Type") != "application/json" || h.Get("X-Tollgate-Timestamp") != "1770262286" || h.Get("X-Team") != "sec" {
		t.Errorf("headers %v", h)
	}
	if st := w.Stats(); st != (WebhookStats{Delivered: 1}) {
		t.Errorf("Stats = %+v", st)
	}
}

func TestWebhookWithRedactor(t *testing.T) {
	rcv := newReceiver(t)
	w, err := NewWebhook(rcv.srv.URL, WithRedactor(NewRedactor("=path")))
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(ctx, blocked(1))
	closeWebhook(t, w)
	bodies, _ := rcv.requests()
	if len(bodies) != 1 || !strings.Contains(string(bodies[0]), `"params": {"path": "[REDACTED]", "limit": 10}`) {
		t.Errorf("custom redactor not used: %q", bodies)
	}
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	rcv := newReceiver(t, 500, 503, 429)
	var s sleeps
	w, err := NewWebhook(rcv.srv.URL, WithSleep(s.sleep))
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(ctx, blocked(1))
	closeWebhook(t, w)
	if bodies, _ := rcv.requests(); len(bodies) != 4 {
		t.Errorf("%d attempts, want 4", len(bodies))
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}
	if len(s.d) != len(want) || s.d[0] != want[0] || s.d[1] != want[1] || s.d[2] != want[2] {
		t.Errorf("backoff %v, want %v", s.d, want)
	}
	if st := w.Stats(); st != (WebhookStats{Delivered: 1}) {
		t.Errorf("Stats = %+v", st)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	// Retries exhausted.
	rcv := newReceiver(t, 500, 500, 500)
	var s sleeps
	w, _ := NewWebhook(rcv.srv.URL, WithSleep(s.sleep), WithRetries(2))
	w.Emit(ctx, blocked(1))
	closeWebhook(t, w)
	if bodies, _ := rcv.requests(); len(bodies) != 3 || w.Stats() != (WebhookStats{Failed: 1}) {
		t.Errorf("%d attempts, %+v; want 3 and one failure", len(bodies), w.Stats())
	}

	// A 4xx other than 408/429 is final; a redirect is not followed.
	for _, status := range []int{http.StatusBadRequest, http.StatusFound} {
		rcv := newReceiver(t, status)
		w, _ := NewWebhook(rcv.srv.URL, WithSleep((&sleeps{}).sleep))
		w.Emit(ctx, blocked(1))
		closeWebhook(t, w)
		if bodies, _ := rcv.requests(); len(bodies) != 1 || w.Stats() != (WebhookStats{Failed: 1}) {
			t.Errorf("status %d: %d attempts, %+v", status, len(bodies), w.Stats())
		}
	}

	// Connection refused is retried.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	s = sleeps{}
	w, _ = NewWebhook(url, WithSleep(s.sleep), WithRetries(1))
	w.Emit(ctx, blocked(1))
	closeWebhook(t, w)
	if len(s.d) != 1 || w.Stats() != (WebhookStats{Failed: 1}) {
		t.Errorf("network error: %d retries, %+v", len(s.d), w.Stats())
	}
}

func TestWebhookFiltersOutcomes(t *testing.T) {
	rcv := newReceiver(t)
	w, _ := NewWebhook(rcv.srv.URL)
	executed := testEvent(1)
	if err := w.Emit(ctx, executed); err != nil {
		t.Errorf("filtered Emit = %v", err)
	}
	closeWebhook(t, w)
	if bodies, _ := rcv.requests(); len(bodies) != 0 {
		t.Errorf("executed event sent: %s", bodies[0])
	}

	rcv = newReceiver(t)
	w, _ = NewWebhook(rcv.srv.URL, WithOutcomes(tollgate.OutcomeFailed))
	w.Emit(ctx, blocked(1))
	failed := testEvent(2)
	failed.Outcome = tollgate.OutcomeFailed
	w.Emit(ctx, failed)
	closeWebhook(t, w)
	if bodies, _ := rcv.requests(); len(bodies) != 1 || !strings.Contains(string(bodies[0]), `"outcome": "failed"`) {
		t.Errorf("WithOutcomes(failed) sent %d events", len(bodies))
	}
}

func TestWebhookQueueFullDrops(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	w, _ := NewWebhook(srv.URL, WithQueueSize(1))
	w.Emit(ctx, blocked(1))
	<-arrived // event 1 is in flight, the queue is empty
	w.Emit(ctx, blocked(2))
	if err := w.Emit(ctx, blocked(3)); err != nil { // queue full: dropped, not an error
		t.Errorf("Emit on a full queue = %v", err)
	}
	close(release)
	closeWebhook(t, w)
	if st := w.Stats(); st != (WebhookStats{Delivered: 2, Dropped: 1}) {
		t.Errorf("Stats = %+v", st)
	}
}

func TestWebhookCloseGivesUpWithContext(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // so that the server notices the client hanging up
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // runs before srv.Close
	w, _ := NewWebhook(srv.URL)
	w.Emit(ctx, blocked(1))
	<-arrived
	w.Emit(ctx, blocked(2))
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Close(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v", err)
	}
	if st := w.Stats(); st != (WebhookStats{Failed: 1, Dropped: 1}) {
		t.Errorf("Stats = %+v", st)
	}
	if err := w.Emit(ctx, blocked(3)); !errors.Is(err, ErrClosed) {
		t.Errorf("Emit after Close = %v", err)
	}
	if err := w.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

func TestNewWebhookErrors(t *testing.T) {
	for _, c := range []struct {
		url  string
		opts []WebhookOption
		want string
	}{
		{"", nil, "webhook_url must not be empty"},
		{"ftp://x", nil, "absolute http:// or https:// URL"},
		{"/relative", nil, "absolute http"},
		{"http://%zz", nil, "absolute http"},
		{"http://x", []WebhookOption{WithOutcomes()}, "at least one outcome"},
		{"http://x", []WebhookOption{WithOutcomes("exploded")}, `unknown outcome "exploded"`},
		{"http://x", []WebhookOption{WithSecret(nil)}, "secret must not be empty"},
		{"http://x", []WebhookOption{WithQueueSize(0)}, "at least 1"},
		{"http://x", []WebhookOption{WithRetries(-1)}, "must not be negative"},
		{"http://x", []WebhookOption{WithHTTPClient(nil)}, "client must not be nil"},
		{"http://x", []WebhookOption{WithClock(nil)}, "must not be nil"},
	} {
		w, err := NewWebhook(c.url, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWebhook(%q) = %v, want %q", c.url, err, c.want)
		}
		if w != nil {
			w.Close(context.Background())
		}
	}
	w, _ := NewWebhook("http://127.0.0.1:1")
	defer w.Close(context.Background())
	if err := w.Emit(ctx, nil); err == nil {
		t.Error("nil event accepted")
	}
}
