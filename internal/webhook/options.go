package webhook

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"
)

type config struct {
	client    *http.Client
	secret    []byte
	headers   map[string]string
	queueSize int
	retries   int
	clock     func() time.Time
	sleep     func(context.Context, time.Duration) error
	err       error // the first invalid option
}

func (c *config) validate() error {
	switch {
	case c.err != nil:
		return c.err
	case c.client == nil:
		return errors.New("webhook: WithHTTPClient: the client must not be nil")
	case c.queueSize < 1:
		return fmt.Errorf("webhook: WithQueueSize(%d): the size must be at least 1", c.queueSize)
	case c.retries < 0:
		return fmt.Errorf("webhook: WithRetries(%d): the count must not be negative", c.retries)
	case c.clock == nil || c.sleep == nil:
		return errors.New("webhook: WithClock/WithSleep: the function must not be nil")
	}
	return nil
}

// Option configures a Sender.
type Option func(*config)

// WithHTTPClient sets the client used for deliveries. The default has a
// 5 s timeout per attempt and does not follow redirects.
func WithHTTPClient(c *http.Client) Option { return func(cfg *config) { cfg.client = c } }

// WithSecret signs every body (HeaderSignature). The secret must not be
// empty.
func WithSecret(secret []byte) Option {
	secret = append([]byte(nil), secret...)
	return func(cfg *config) {
		if len(secret) == 0 && cfg.err == nil {
			cfg.err = errors.New("webhook: WithSecret: the secret must not be empty")
		}
		cfg.secret = secret
	}
}

// WithHeaders adds headers to every request. They may replace
// Content-Type but not HeaderTimestamp or HeaderSignature.
func WithHeaders(h map[string]string) Option {
	h = maps.Clone(h)
	return func(cfg *config) { cfg.headers = h }
}

// WithQueueSize sets how many bodies may wait for delivery (default 1024).
func WithQueueSize(n int) Option { return func(cfg *config) { cfg.queueSize = n } }

// WithRetries sets how many times a failed delivery is retried (default 3;
// 0 means one attempt only).
func WithRetries(n int) Option { return func(cfg *config) { cfg.retries = n } }

// WithClock sets the clock for HeaderTimestamp (default time.Now).
func WithClock(now func() time.Time) Option { return func(cfg *config) { cfg.clock = now } }

// WithSleep sets how the Sender waits between retries (default: a timer
// that stops early when the Sender is closed). Tests pass a function that
// records the durations and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(cfg *config) { cfg.sleep = sleep }
}
