package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/internal/webhook"
)

func TestNotifyOnCreate(t *testing.T) {
	var got []string
	store := NotifyOnCreate(approvals.NewMemoryStore(), NotifierFunc(func(id string, r approvals.Request) {
		got = append(got, id+" "+r.ToolRequest.Tool)
	}))
	ctx := context.Background()
	id, err := store.Create(ctx, pendingRequest("u-1", start.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	// A request the store refuses is not announced.
	if _, err := store.Create(ctx, approvals.Request{}); err == nil {
		t.Fatal("a request without expiry was stored")
	}
	if len(got) != 1 || got[0] != id+" api:delete_user" {
		t.Errorf("notified %v, want the one stored request", got)
	}
	// Everything else is the store's own.
	if rec, err := store.Get(ctx, id); err != nil || rec.Request.ID != id {
		t.Errorf("Get through the decorator: %v, %v", rec, err)
	}
}

// hook is a webhook receiver on 127.0.0.1 answering with the queued
// statuses (then 200).
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	sigs     []string
	srv      *httptest.Server
}

func newHook(t *testing.T, statuses ...int) *hook {
	h := &hook{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(body))
		h.sigs = append(h.sigs, r.Header.Get(webhook.HeaderSignature))
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) got() (bodies, sigs []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...), append([]string(nil), h.sigs...)
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func newNotifier(t *testing.T, url string, opts ...WebhookOption) *WebhookNotifier {
	t.Helper()
	n, err := NewWebhookNotifier(url, []byte("s3cret"), append([]WebhookOption{WithWebhookSleep(noSleep), WithWebhookClock(func() time.Time { return start })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func closeNotifier(t *testing.T, n *WebhookNotifier) {
	t.Helper()
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookNotifierSignsRedactedEvent(t *testing.T) {
	h := newHook(t)
	n := newNotifier(t, h.srv.URL)
	store := NotifyOnCreate(approvals.NewMemoryStore(), n)
	id, err := store.Create(context.Background(), pendingRequest("u-1", start.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	closeNotifier(t, n)
	bodies, sigs := h.got()
	if len(bodies) != 1 {
		t.Fatalf("%d deliveries, want 1", len(bodies))
	}
	body := bodies[0]
	if err := audit.VerifySignature([]byte("s3cret"), []byte(body), sigs[0], start, audit.DefaultSignatureTolerance); err != nil {
		t.Errorf("signature %q does not verify: %v", sigs[0], err)
	}
	var ev adminv1.WebhookEvent
	if err := protojson.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("body is not a WebhookEvent: %v\n%s", err, body)
	}
	a := ev.GetApproval()
	if ev.GetType() != WebhookEventCreated || a.GetId() != id || a.GetOutcome() != adminv1.Outcome_OUTCOME_PENDING ||
		a.GetAgent().GetAgentId() != "hr-bot" || !a.GetCreatedAt().AsTime().Equal(start) {
		t.Errorf("event = %v", &ev)
	}
	if strings.Contains(body, "hunter2") || !strings.Contains(a.GetToolRequest().GetParamsJson(), "[REDACTED]") {
		t.Errorf("the secret param was sent: %s", body)
	}
	if !strings.Contains(body, `"tool_request"`) {
		t.Errorf("body does not use proto field names: %s", body)
	}
	if st := n.Stats(); st != (WebhookStats{Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookNotifierRetriesThenSucceeds(t *testing.T) {
	h := newHook(t, 500, 503)
	n := newNotifier(t, h.srv.URL)
	n.Notify("id-1", pendingRequest("u-1", start.Add(time.Hour)))
	closeNotifier(t, n)
	if bodies, _ := h.got(); len(bodies) != 3 || n.Stats() != (WebhookStats{Delivered: 1}) {
		t.Errorf("%d attempts, stats %+v; want 3 attempts, delivered", len(bodies), n.Stats())
	}
}

func TestWebhookNotifierGivesUp(t *testing.T) {
	h := newHook(t, 500, 500, 500, 500, 500)
	n := newNotifier(t, h.srv.URL, WithWebhookRetries(2))
	n.Notify("id-1", pendingRequest("u-1", start.Add(time.Hour)))
	closeNotifier(t, n)
	if bodies, _ := h.got(); len(bodies) != 3 || n.Stats() != (WebhookStats{Failed: 1}) {
		t.Errorf("%d attempts, stats %+v; want 3 attempts, failed", len(bodies), n.Stats())
	}
}

func TestWebhookNotifierNeverBlocks(t *testing.T) {
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	n := newNotifier(t, srv.URL, WithWebhookQueueSize(1), WithWebhookHeaders(map[string]string{"X-Receiver-Token": "t"}))
	req := pendingRequest("u-1", start.Add(time.Hour))
	n.Notify("id-1", req)
	<-arrived // the first is being delivered, and the receiver holds it
	n.Notify("id-2", req)
	n.Notify("id-3", req) // the queue is full: dropped, not waited for
	close(release)
	closeNotifier(t, n)
	n.Notify("id-4", req) // after Close: dropped
	if st := n.Stats(); st != (WebhookStats{Delivered: 2, Dropped: 2}) {
		t.Errorf("stats %+v, want 2 delivered and 2 dropped", st)
	}
}

func TestNewWebhookNotifierErrors(t *testing.T) {
	for name, f := range map[string]func() (*WebhookNotifier, error){
		"no secret": func() (*WebhookNotifier, error) { return NewWebhookNotifier("http://127.0.0.1/", nil) },
		"bad URL":   func() (*WebhookNotifier, error) { return NewWebhookNotifier("ftp://x", []byte("s")) },
		"nil clock": func() (*WebhookNotifier, error) {
			return NewWebhookNotifier("http://127.0.0.1/", []byte("s"), WithWebhookClock(nil))
		},
		"zero queue": func() (*WebhookNotifier, error) {
			return NewWebhookNotifier("http://127.0.0.1/", []byte("s"), WithWebhookQueueSize(0))
		},
		"nil client": func() (*WebhookNotifier, error) {
			return NewWebhookNotifier("http://127.0.0.1/", []byte("s"), WithWebhookHTTPClient(nil))
		},
	} {
		if n, err := f(); err == nil || n != nil {
			t.Errorf("%s: %v, %v; want an error", name, n, err)
		}
	}
	n, err := NewWebhookNotifier("http://127.0.0.1/", []byte("s"), WithWebhookRedactor(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(context.Background()); !errors.Is(err, webhook.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func BenchmarkWebhookNotify(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	n, err := NewWebhookNotifier(srv.URL, []byte("s3cret"), WithWebhookQueueSize(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	req := pendingRequest("u-1", start.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		n.Notify("id-1", req) // what the request path pays: render and queue
	}
	b.StopTimer()
	_ = n.Close(context.Background())
}
