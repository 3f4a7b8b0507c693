package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/webhook"
)

type webhookConfig struct {
	redactor *Redactor
	outcomes []tollgate.Outcome
	delivery []webhook.Option // checked by webhook.New
}

func (c *webhookConfig) validate() error {
	if len(c.outcomes) == 0 {
		return errors.New("audit: WithOutcomes: give at least one outcome (an empty set would send nothing)")
	}
	for _, o := range c.outcomes {
		switch o {
		case tollgate.OutcomeAuthorized, tollgate.OutcomeExecuted, tollgate.OutcomeBlocked,
			tollgate.OutcomeApprovalDenied, tollgate.OutcomeFailed, tollgate.OutcomeTimeout, tollgate.OutcomeCanceled:
		default:
			return fmt.Errorf("audit: WithOutcomes: unknown outcome %q", o)
		}
	}
	return nil
}

type webhookOption func(*webhookConfig)

func (f webhookOption) applyWebhook(c *webhookConfig) { f(c) }

// delivery is a WebhookOption that configures the delivery itself.
func delivery(o webhook.Option) WebhookOption {
	return webhookOption(func(cfg *webhookConfig) { cfg.delivery = append(cfg.delivery, o) })
}

// WithHTTPClient sets the client used for deliveries. The default has a 5 s
// timeout per attempt and does not follow redirects.
func WithHTTPClient(c *http.Client) WebhookOption { return delivery(webhook.WithHTTPClient(c)) }

// WithOutcomes sets the outcomes that are sent (default blocked,
// approval_denied, failed and timeout). An empty list is an error, not the
// default as in Tollgate.
func WithOutcomes(outcomes ...tollgate.Outcome) WebhookOption {
	outcomes = append([]tollgate.Outcome(nil), outcomes...)
	return webhookOption(func(cfg *webhookConfig) { cfg.outcomes = outcomes })
}

// WithSecret signs every body and its timestamp: X-Tollgate-Signature:
// t=<Unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")> (Signature;
// receivers check it with VerifySignature). The secret must not be empty.
func WithSecret(secret []byte) WebhookOption { return delivery(webhook.WithSecret(secret)) }

// WithHeaders adds headers to every request. They may replace
// Content-Type (as in Tollgate) but not X-Tollgate-Timestamp or
// X-Tollgate-Signature.
func WithHeaders(h map[string]string) WebhookOption { return delivery(webhook.WithHeaders(h)) }

// WithQueueSize sets how many events may wait for delivery (default 1024).
func WithQueueSize(n int) WebhookOption { return delivery(webhook.WithQueueSize(n)) }

// WithRetries sets how many times a failed delivery is retried (default 3;
// 0 means one attempt only).
func WithRetries(n int) WebhookOption { return delivery(webhook.WithRetries(n)) }

// WithClock sets the clock for X-Tollgate-Timestamp (default time.Now).
func WithClock(now func() time.Time) WebhookOption { return delivery(webhook.WithClock(now)) }

// WithSleep sets how the Webhook waits between retries (default: a timer
// that stops early when ctx ends). Tests pass a function that records the
// durations and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) WebhookOption {
	return delivery(webhook.WithSleep(sleep))
}
