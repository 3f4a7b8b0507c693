package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/tollgate-go/tollgate"
)

type webhookConfig struct {
	redactor  *Redactor
	client    *http.Client
	outcomes  []tollgate.Outcome
	secret    []byte
	headers   map[string]string
	queueSize int
	retries   int
	clock     func() time.Time
	sleep     func(context.Context, time.Duration) error
	err       error // the first invalid option
}

func (c *webhookConfig) validate() error {
	switch {
	case c.err != nil:
		return c.err
	case c.client == nil:
		return errors.New("audit: WithHTTPClient: client must not be nil")
	case len(c.outcomes) == 0:
		return errors.New("audit: WithOutcomes: give at least one outcome (an empty set would send nothing)")
	case c.queueSize < 1:
		return fmt.Errorf("audit: WithQueueSize(%d): the size must be at least 1", c.queueSize)
	case c.retries < 0:
		return fmt.Errorf("audit: WithRetries(%d): the count must not be negative", c.retries)
	case c.clock == nil || c.sleep == nil:
		return errors.New("audit: WithClock/WithSleep: function must not be nil")
	}
	for _, o := range c.outcomes {
		switch o {
		case tollgate.OutcomeAuthorized, tollgate.OutcomeExecuted, tollgate.OutcomeBlocked,
			tollgate.OutcomeApprovalDenied, tollgate.OutcomeFailed, tollgate.OutcomeTimeout:
		default:
			return fmt.Errorf("audit: WithOutcomes: unknown outcome %q", o)
		}
	}
	return nil
}

type webhookOption func(*webhookConfig)

func (f webhookOption) applyWebhook(c *webhookConfig) { f(c) }

// WithHTTPClient sets the client used for deliveries. The default has a 5 s
// timeout per attempt and does not follow redirects.
func WithHTTPClient(c *http.Client) WebhookOption {
	return webhookOption(func(cfg *webhookConfig) { cfg.client = c })
}

// WithOutcomes sets the outcomes that are sent (default blocked,
// approval_denied, failed and timeout). An empty list is an error, not the
// default as in Tollgate.
func WithOutcomes(outcomes ...tollgate.Outcome) WebhookOption {
	outcomes = append([]tollgate.Outcome(nil), outcomes...)
	return webhookOption(func(cfg *webhookConfig) { cfg.outcomes = outcomes })
}

// WithSecret signs every body: X-Tollgate-Signature: sha256=<hex
// HMAC-SHA256(secret, body)>. The secret must not be empty.
func WithSecret(secret []byte) WebhookOption {
	secret = append([]byte(nil), secret...)
	return webhookOption(func(cfg *webhookConfig) {
		if len(secret) == 0 {
			cfg.err = errors.New("audit: WithSecret: the secret must not be empty")
		}
		cfg.secret = secret
	})
}

// WithHeaders adds headers to every request. They may replace
// Content-Type (as in Tollgate) but not X-Tollgate-Timestamp or
// X-Tollgate-Signature.
func WithHeaders(h map[string]string) WebhookOption {
	h = maps.Clone(h)
	return webhookOption(func(cfg *webhookConfig) { cfg.headers = h })
}

// WithQueueSize sets how many events may wait for delivery (default 1024).
func WithQueueSize(n int) WebhookOption {
	return webhookOption(func(cfg *webhookConfig) { cfg.queueSize = n })
}

// WithRetries sets how many times a failed delivery is retried (default 3;
// 0 means one attempt only).
func WithRetries(n int) WebhookOption {
	return webhookOption(func(cfg *webhookConfig) { cfg.retries = n })
}

// WithClock sets the clock for X-Tollgate-Timestamp (default time.Now).
func WithClock(now func() time.Time) WebhookOption {
	return webhookOption(func(cfg *webhookConfig) { cfg.clock = now })
}

// WithSleep sets how the Webhook waits between retries (default: a timer
// that stops early when ctx ends). Tests pass a function that records the
// durations and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) WebhookOption {
	return webhookOption(func(cfg *webhookConfig) { cfg.sleep = sleep })
}
