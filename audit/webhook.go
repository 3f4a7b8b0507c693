package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-go/tollgate"
)

// Webhook POSTs alert-worthy events (by default blocked, approval_denied,
// failed and timeout) to a URL. Delivery is asynchronous: Emit only queues
// the event, so a slow or failing receiver never delays or refuses a call;
// when the queue is full the event is dropped and counted (Stats). A
// Webhook is an alerting channel, not the record of truth — pair it with a
// FileSink through Composite.
//
// Each request carries the event JSON (the audit-line form, without chain
// keys), Content-Type: application/json, X-Tollgate-Timestamp (Unix seconds
// of the attempt) and, with WithSecret, X-Tollgate-Signature:
// sha256=<hex HMAC-SHA256 of the body>. Failed deliveries (network errors,
// 408, 429 and 5xx) are retried with exponential backoff; other statuses
// are final. Redirects are not followed.
//
// Webhook is safe for concurrent use. Close drains the queue.
type Webhook struct {
	url      string
	cfg      webhookConfig
	outcomes map[tollgate.Outcome]bool

	mu     sync.RWMutex // guards closed and sending on queue
	closed bool
	queue  chan []byte

	ctx    context.Context // canceled when Close gives up draining
	cancel context.CancelFunc
	done   chan struct{}

	delivered, failed, dropped atomic.Uint64
}

// WebhookStats counts what happened to the events a Webhook accepted.
type WebhookStats struct {
	Delivered uint64 // a 2xx response was received
	Failed    uint64 // every attempt failed
	Dropped   uint64 // not attempted: the queue was full, or Close gave up
}

// defaultAlertOutcomes are the outcomes a Webhook sends by default:
// everything but executed (and authorized).
var defaultAlertOutcomes = []tollgate.Outcome{
	tollgate.OutcomeBlocked, tollgate.OutcomeApprovalDenied,
	tollgate.OutcomeFailed, tollgate.OutcomeTimeout,
}

// Backoff between delivery attempts: backoffBase, doubled per retry, at
// most backoffMax.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 8 * time.Second
)

// NewWebhook returns a Webhook that posts to rawURL, an absolute http or
// https URL. Its goroutine runs until Close.
func NewWebhook(rawURL string, opts ...WebhookOption) (*Webhook, error) {
	if rawURL == "" {
		return nil, errors.New("audit: webhook_url must not be empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("audit: webhook_url %q must be an absolute http:// or https:// URL", rawURL)
	}
	cfg := webhookConfig{
		redactor:  defaultRedactor,
		client:    &http.Client{Timeout: 5 * time.Second, CheckRedirect: noRedirects},
		outcomes:  defaultAlertOutcomes,
		queueSize: 1024,
		retries:   3,
		clock:     time.Now,
		sleep:     sleepCtx,
	}
	for _, o := range opts {
		o.applyWebhook(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w := &Webhook{
		url:      rawURL,
		cfg:      cfg,
		outcomes: make(map[tollgate.Outcome]bool, len(cfg.outcomes)),
		queue:    make(chan []byte, cfg.queueSize),
		done:     make(chan struct{}),
	}
	for _, o := range cfg.outcomes {
		w.outcomes[o] = true
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	go w.run()
	return w, nil
}

// Emit queues e when its outcome is one the Webhook sends, and returns nil
// for any other outcome. A full queue drops the event (counted in
// Stats().Dropped) rather than block the call being audited. Emit after
// Close returns ErrClosed.
func (w *Webhook) Emit(_ context.Context, e *Event) error {
	if e == nil {
		return errors.New("audit: nil event")
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	if !w.outcomes[e.Outcome] {
		return nil
	}
	body := w.cfg.redactor.Event(e).AppendJSON(nil)
	select {
	case w.queue <- body:
	default:
		w.dropped.Add(1)
	}
	return nil
}

// Stats returns the delivery counters.
func (w *Webhook) Stats() WebhookStats {
	return WebhookStats{Delivered: w.delivered.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load()}
}

// Close stops accepting events and waits until the queued ones are
// delivered (or have failed). When ctx ends first, the delivery in progress
// is abandoned, what is left in the queue is dropped, and ctx.Err() is
// returned.
func (w *Webhook) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	select {
	case <-w.done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return ctx.Err()
	}
}

func (w *Webhook) run() {
	defer close(w.done)
	for body := range w.queue {
		switch {
		case w.ctx.Err() != nil:
			w.dropped.Add(1)
		case w.deliver(body):
			w.delivered.Add(1)
		default:
			w.failed.Add(1)
		}
	}
}

// deliver posts body, retrying with backoff; it reports success.
func (w *Webhook) deliver(body []byte) bool {
	wait := backoffBase
	for attempt := 0; ; attempt++ {
		ok, retryable := w.post(body)
		if ok {
			return true
		}
		if !retryable || attempt >= w.cfg.retries || w.cfg.sleep(w.ctx, wait) != nil {
			return false
		}
		wait = min(2*wait, backoffMax)
	}
}

// post makes one attempt. retryable says whether another attempt may
// succeed: network errors, 408, 429 and 5xx.
func (w *Webhook) post(body []byte) (ok, retryable bool) {
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, false
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range w.cfg.headers {
		req.Header.Set(k, v)
	}
	// Set last, so custom headers cannot replace them.
	req.Header.Set("X-Tollgate-Timestamp", strconv.FormatInt(w.cfg.clock().Unix(), 10))
	if w.cfg.secret != nil {
		req.Header.Set("X-Tollgate-Signature", Signature(w.cfg.secret, body))
	}
	resp, err := w.cfg.client.Do(req)
	if err != nil {
		return false, w.ctx.Err() == nil
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return true, false
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return false, true
	}
	return false, false
}

// Signature returns the X-Tollgate-Signature value for body:
// "sha256=" and the hex HMAC-SHA256 of body under secret. Receivers should
// compare it with hmac.Equal.
func Signature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
