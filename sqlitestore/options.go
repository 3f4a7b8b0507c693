package sqlitestore

import (
	"time"

	"github.com/tollgate-go/tollgate/audit"
)

// Option configures Open.
type Option func(*config)

type config struct {
	clock        func() time.Time
	pollInterval time.Duration
	busyTimeout  time.Duration
	redactor     *audit.Redactor
}

func defaultConfig() config {
	return config{
		clock:        time.Now,
		pollInterval: 100 * time.Millisecond,
		busyTimeout:  5 * time.Second,
		redactor:     audit.DefaultRedactor,
	}
}

// WithClock sets the source of the current time for what the stores stamp
// themselves: approval and default grant creation times, and the expiry of
// token replay entries. Consume and CleanupExpired take "now" as an
// argument instead. A nil clock keeps time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithPollInterval sets how often Approvals().Wait re-reads a pending
// request (default 100ms). Decisions made through the same DB wake waiters
// at once; polling only bounds how late a waiter learns of a decision made
// by another process sharing the file. It must be positive.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) { c.pollInterval = d }
}

// WithBusyTimeout sets how long a write waits for another process holding
// the database's write lock before failing (default 5s; SQLite's
// busy_timeout, in whole milliseconds). Zero fails at once.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = d }
}

// WithRedactor sets what the approval store removes from params and
// metadata before writing a request to disk (default audit.DefaultRedactor,
// the audit log's rule). The binding hash is computed before redaction, so
// redaction never weakens which call an approval is bound to; it only
// changes what Get and List show. audit.NewRedactor() stores everything.
// A nil Redactor is audit.DefaultRedactor.
func WithRedactor(r *audit.Redactor) Option {
	return func(c *config) { c.redactor = r }
}
