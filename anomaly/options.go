package anomaly

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

type config struct {
	window, interval, cooldown time.Duration
	cooldownSet                bool // else the cooldown is the window
	z                          float64
	minSamples                 int
	maxSeries                  int
	now                        func() time.Time
	logger                     *slog.Logger
	hooks                      []func(Alert)
	webhookURL                 string
	webhookSecret              []byte
}

func defaults() config {
	return config{
		window: 5 * time.Minute, interval: time.Minute, z: 3, minSamples: 10,
		maxSeries: 10_000, now: time.Now, logger: slog.Default(),
	}
}

// maxBuckets bounds window/interval, and with it a series' memory.
const maxBuckets = 1440

func (c *config) validate() error {
	switch {
	case c.interval <= 0:
		return fmt.Errorf("anomaly: baseline interval %v must be positive", c.interval)
	case c.window < 2*c.interval:
		// Tollgate accepts window ≤ interval and then never alerts: every
		// sample sees one interval only.
		return fmt.Errorf("anomaly: window %v must be at least twice the baseline interval %v", c.window, c.interval)
	case c.window%c.interval != 0:
		return fmt.Errorf("anomaly: window %v must be a whole number of baseline intervals (%v)", c.window, c.interval)
	case c.window/c.interval > maxBuckets:
		return fmt.Errorf("anomaly: window %v is more than %d baseline intervals (%v)", c.window, maxBuckets, c.interval)
	case !(c.z > 0):
		return fmt.Errorf("anomaly: z-score threshold %v must be positive", c.z)
	case c.minSamples < 2 || c.minSamples > maxSamples:
		return fmt.Errorf("anomaly: min samples %d must be between 2 and %d", c.minSamples, maxSamples)
	case c.cooldown < 0:
		return fmt.Errorf("anomaly: cooldown %v must not be negative", c.cooldown)
	case c.maxSeries < 1:
		return fmt.Errorf("anomaly: max series %d must be at least 1", c.maxSeries)
	case c.now == nil, c.logger == nil:
		return errors.New("anomaly: clock and logger must not be nil")
	case c.webhookURL != "" && len(c.webhookSecret) == 0:
		return errors.New("anomaly: webhook secret must not be empty")
	}
	return nil
}

// Option configures a Detector.
type Option func(*config)

// WithWindow sets how far back the current rate looks (default 5m). It
// must be a whole number, at least 2, of baseline intervals.
func WithWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithBaselineInterval sets how often each series' rate is sampled into its
// baseline (default 1m).
func WithBaselineInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithZScore sets how many standard deviations above the baseline mean a
// rate must be to alert (default 3).
func WithZScore(z float64) Option { return func(c *config) { c.z = z } }

// WithMinSamples sets how many baseline samples a series needs before it
// can alert (default 10, at most 100: the baseline keeps the last 100).
func WithMinSamples(n int) Option { return func(c *config) { c.minSamples = n } }

// WithCooldown sets how long after an alert the same alert (type, agent
// and tool) stays quiet (default: the window). Tollgate has none and
// alerts on every event while the rate stays high.
func WithCooldown(d time.Duration) Option {
	return func(c *config) { c.cooldown, c.cooldownSet = d, true }
}

// WithMaxSeries bounds how many agent:tool series are tracked (default
// 10,000); the least recently seen is forgotten first, with its agent when
// it was the agent's last. A forgotten series starts again without a
// baseline, and its tool counts as new for the agent.
func WithMaxSeries(n int) Option { return func(c *config) { c.maxSeries = n } }

// WithClock sets the time used for events without a timestamp (default
// time.Now). Events with one are placed by their own time.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sets where alerts are logged, at Warn (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHook adds a function called with every alert, after the detector's
// lock is released (for example to count alerts in a metric). It runs on
// the goroutine that emitted the event, so it must be quick.
func WithHook(fn func(Alert)) Option {
	return func(c *config) {
		if fn != nil {
			c.hooks = append(c.hooks, fn)
		}
	}
}

// WithWebhook posts every alert's JSON to url, HMAC-signed with secret
// like the audit webhook (see audit.VerifySignature), asynchronously with
// retries and a bounded queue; Close drains it.
func WithWebhook(url string, secret []byte) Option {
	return func(c *config) { c.webhookURL, c.webhookSecret = url, secret }
}
