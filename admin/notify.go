package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/internal/webhook"
)

// Notifier is told about every approval request a Store created. Notify
// runs on the request path of the call waiting for approval: it must
// return at once (queue, never deliver inline) and must not keep r's
// Params beyond the call.
type Notifier interface {
	Notify(id string, r approvals.Request)
}

// NotifierFunc adapts a function to a Notifier.
type NotifierFunc func(id string, r approvals.Request)

// Notify calls f.
func (f NotifierFunc) Notify(id string, r approvals.Request) { f(id, r) }

// NotifyOnCreate returns store with n told about every request it
// creates, after it is stored: a decorator, so the Tower (which only sees
// an approvals.Store) needs no change. Everything else is store's own.
//
//	notifier, _ := admin.NewWebhookNotifier(url, secret)
//	t, _ := tower.New(cfg, tower.WithApprovalStore(admin.NotifyOnCreate(store, notifier), time.Hour))
func NotifyOnCreate(store approvals.Store, n Notifier) approvals.Store {
	return notifyingStore{Store: store, n: n}
}

type notifyingStore struct {
	approvals.Store
	n Notifier
}

func (s notifyingStore) Create(ctx context.Context, r approvals.Request) (string, error) {
	id, err := s.Store.Create(ctx, r)
	if err == nil {
		s.n.Notify(id, r)
	}
	return id, err
}

// WebhookEventCreated is WebhookEvent.type for a new request.
const WebhookEventCreated = "approval.created"

// WebhookNotifier POSTs every new approval request to a URL (Slack, a
// ticket system, a pager), so that a human learns there is something to
// decide. The body is a WebhookEvent in protojson with proto field names:
//
//	{"type": "approval.created", "approval": {"id": "…", "agent": {…}, "tool_request": {…, "params_json": "{…}"}, …}}
//
// with params and metadata redacted as the admin API shows them. Each POST
// carries X-Tollgate-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the secret> and X-Tollgate-Timestamp (the same
// seconds, unsigned). Receivers check the signature over the raw body and
// the signed timestamp's age with audit.VerifySignature, which refuses a
// delivery replayed later or with a changed timestamp, and
// use approval.id to ignore duplicates (a retry after a lost response
// delivers an event twice).
//
// Delivery is asynchronous: Notify only queues the body, so a slow or dead
// receiver never delays the call; a full queue drops it (counted in
// Stats). Failures (network errors, 408, 429, 5xx) are retried with
// exponential backoff (250 ms doubling, at most 8 s). A webhook is a
// doorbell, not the record: the store and ListPending are. Close drains
// the queue.
type WebhookNotifier struct {
	sender   *webhook.Sender
	redactor *audit.Redactor
	now      func() time.Time
	lost     atomic.Uint64 // notifications never queued: after Close
}

// WebhookStats counts what happened to the notifications.
type WebhookStats struct {
	Delivered uint64 // a 2xx response was received
	Failed    uint64 // every attempt failed
	Dropped   uint64 // never attempted: the queue was full, or after Close
}

type webhookConfig struct {
	opts     []webhook.Option
	redactor *audit.Redactor
	now      func() time.Time
}

// WebhookOption configures NewWebhookNotifier.
type WebhookOption func(*webhookConfig)

// WithWebhookHTTPClient sets the client (default: 5 s per attempt, no
// redirects).
func WithWebhookHTTPClient(c *http.Client) WebhookOption {
	return func(w *webhookConfig) { w.opts = append(w.opts, webhook.WithHTTPClient(c)) }
}

// WithWebhookHeaders adds headers to every POST (such as a receiver's
// token). They cannot replace the signature or timestamp.
func WithWebhookHeaders(h map[string]string) WebhookOption {
	return func(w *webhookConfig) { w.opts = append(w.opts, webhook.WithHeaders(h)) }
}

// WithWebhookQueueSize sets how many notifications may wait (default
// 1024).
func WithWebhookQueueSize(n int) WebhookOption {
	return func(w *webhookConfig) { w.opts = append(w.opts, webhook.WithQueueSize(n)) }
}

// WithWebhookRetries sets how many times a failed delivery is retried
// (default 3).
func WithWebhookRetries(n int) WebhookOption {
	return func(w *webhookConfig) { w.opts = append(w.opts, webhook.WithRetries(n)) }
}

// WithWebhookClock sets the clock for the timestamp header and
// created_at (tests).
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(w *webhookConfig) {
		w.now = now
		w.opts = append(w.opts, webhook.WithClock(now))
	}
}

// WithWebhookSleep sets how the notifier waits between retries (tests
// record the waits instead of sleeping).
func WithWebhookSleep(sleep func(ctx context.Context, d time.Duration) error) WebhookOption {
	return func(w *webhookConfig) { w.opts = append(w.opts, webhook.WithSleep(sleep)) }
}

// WithWebhookRedactor sets how params and metadata are masked (default
// audit.DefaultRedactor).
func WithWebhookRedactor(r *audit.Redactor) WebhookOption {
	return func(w *webhookConfig) { w.redactor = r }
}

// NewWebhookNotifier returns a notifier posting to rawURL (http or https)
// and signing with secret, which must not be empty: a receiver that cannot
// verify where a notification came from could be sent fake ones. Its
// goroutine runs until Close.
func NewWebhookNotifier(rawURL string, secret []byte, opts ...WebhookOption) (*WebhookNotifier, error) {
	if len(secret) == 0 {
		return nil, errors.New("admin: NewWebhookNotifier needs a secret to sign with")
	}
	cfg := webhookConfig{redactor: audit.DefaultRedactor, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.now == nil {
		return nil, errors.New("admin: WithWebhookClock(nil): pass a clock")
	}
	sender, err := webhook.New(rawURL, append(cfg.opts, webhook.WithSecret(secret))...)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return &WebhookNotifier{sender: sender, redactor: cfg.redactor, now: cfg.now}, nil
}

// Notify queues the notification for the request and returns at once.
func (w *WebhookNotifier) Notify(id string, r approvals.Request) {
	now := w.now()
	r.ID = id
	body, err := webhookJSON.Marshal(&adminv1.WebhookEvent{
		Type:     WebhookEventCreated,
		Approval: approvalMessage(approvals.Record{Request: r, CreatedAt: now, Outcome: approvals.OutcomeDeferred}, now, w.redactor),
	})
	if err != nil { // approvalMessage makes every string valid UTF-8, so this is unexpected
		w.lost.Add(1)
		return
	}
	if errors.Is(w.sender.Send(body), webhook.ErrClosed) {
		w.lost.Add(1)
	}
}

var webhookJSON = protojson.MarshalOptions{UseProtoNames: true}

// Stats returns the delivery counters.
func (w *WebhookNotifier) Stats() WebhookStats {
	st := w.sender.Stats()
	return WebhookStats{Delivered: st.Delivered, Failed: st.Failed, Dropped: st.Dropped + w.lost.Load()}
}

// Close stops accepting notifications and waits until the queued ones are
// delivered or have failed, or until ctx ends (the rest are dropped and
// ctx.Err() is returned).
func (w *WebhookNotifier) Close(ctx context.Context) error {
	return w.sender.Close(ctx)
}
