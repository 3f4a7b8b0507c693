package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/webhook"
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
// t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">, which receivers
// check with VerifySignature. Failed deliveries (network errors,
// 408, 429 and 5xx) are retried with exponential backoff (250 ms doubling,
// at most 8 s); other statuses are final. Redirects are not followed.
// Delivery is internal/webhook's, which the admin API's approval notifier
// shares.
//
// Webhook is safe for concurrent use. Close drains the queue.
type Webhook struct {
	sender   *webhook.Sender
	redactor *Redactor
	outcomes map[tollgate.Outcome]bool
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

// NewWebhook returns a Webhook that posts to rawURL, an absolute http or
// https URL. Its goroutine runs until Close.
func NewWebhook(rawURL string, opts ...WebhookOption) (*Webhook, error) {
	if rawURL == "" {
		return nil, errors.New("audit: webhook_url must not be empty")
	}
	cfg := webhookConfig{redactor: defaultRedactor, outcomes: defaultAlertOutcomes}
	for _, o := range opts {
		o.applyWebhook(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sender, err := webhook.New(rawURL, cfg.delivery...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	w := &Webhook{sender: sender, redactor: cfg.redactor, outcomes: make(map[tollgate.Outcome]bool, len(cfg.outcomes))}
	for _, o := range cfg.outcomes {
		w.outcomes[o] = true
	}
	return w, nil
}

// Emit queues e when its outcome is one the Webhook sends, and returns nil
// for any other outcome. A full queue drops the event (counted in
// Stats().Dropped) rather than block the call being audited. Emit of an
// event it would send returns ErrClosed after Close.
func (w *Webhook) Emit(_ context.Context, e *Event) error {
	if e == nil {
		return errors.New("audit: nil event")
	}
	if !w.outcomes[e.Outcome] {
		return nil
	}
	// Bounded like a file record: a refusal of a huge call alerts too.
	if err := w.sender.Send(appendRecord(nil, e, w.redactor, DefaultMaxValueSize)); errors.Is(err, webhook.ErrClosed) {
		return ErrClosed
	}
	return nil // sent, or dropped and counted
}

// Stats returns the delivery counters.
func (w *Webhook) Stats() WebhookStats {
	st := w.sender.Stats()
	return WebhookStats{Delivered: st.Delivered, Failed: st.Failed, Dropped: st.Dropped}
}

// Close stops accepting events and waits until the queued ones are
// delivered (or have failed). When ctx ends first, the delivery in progress
// is abandoned, what is left in the queue is dropped, and ctx.Err() is
// returned.
func (w *Webhook) Close(ctx context.Context) error {
	err := w.sender.Close(ctx)
	if errors.Is(err, webhook.ErrClosed) {
		return ErrClosed
	}
	return err
}

// Signature returns the X-Tollgate-Signature value for body sent at t:
// "t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under secret>",
// as Stripe-style receivers expect. The timestamp is signed, so a captured
// delivery cannot be replayed with a fresh one.
func Signature(secret, body []byte, t time.Time) string { return webhook.Sign(secret, body, t) }

// DefaultSignatureTolerance is the window VerifySignature callers should
// use unless they have a reason not to: 5 minutes, as Stripe's receivers.
const DefaultSignatureTolerance = webhook.DefaultTolerance

// VerifySignature is the receiver's check of an X-Tollgate-Signature
// header (from this package's Webhook or the admin API's approval
// notifier): body is the raw request body, now the receiver's clock. It
// returns nil when a v1 signature matches the signed timestamp and body
// under secret and the timestamp is within tolerance of now (either
// direction); otherwise an error saying which: no signature, malformed,
// mismatch (forged, altered, replayed with a new timestamp, other secret)
// or outside the tolerance (a replay of an old delivery). Answer any error
// with 4xx and drop the body.
func VerifySignature(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	return webhook.Verify(secret, body, header, now, tolerance)
}
