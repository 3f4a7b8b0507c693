package audit

import "time"

// Option configures OpenFile.
type Option interface{ applyFile(*fileConfig) }

// WebhookOption configures NewWebhook.
type WebhookOption interface{ applyWebhook(*webhookConfig) }

// SinkOption is both an Option and a WebhookOption.
type SinkOption interface {
	Option
	WebhookOption
}

// WithRedactor sets the Redactor run on every event before it is written or
// sent. The default is DefaultRedactor; NewRedactor() with no terms turns
// redaction off. A nil Redactor means DefaultRedactor.
func WithRedactor(r *Redactor) SinkOption { return redactorOption{r} }

type redactorOption struct{ r *Redactor }

func (o redactorOption) applyFile(c *fileConfig)       { c.redactor = o.r }
func (o redactorOption) applyWebhook(c *webhookConfig) { c.redactor = o.r }

// FsyncPolicy says when FileSink flushes the log to stable storage. The
// zero value is FsyncBatch.
type FsyncPolicy struct {
	mode  fsyncMode
	every time.Duration
}

type fsyncMode uint8

const (
	fsyncBatch fsyncMode = iota
	fsyncNever
	fsyncInterval
)

var (
	// FsyncBatch fsyncs after every group-committed write, before Emit
	// returns: an event whose Emit succeeded survives a power failure.
	// Concurrent Emit calls share one fsync. This is the default.
	FsyncBatch = FsyncPolicy{mode: fsyncBatch}
	// FsyncNever leaves flushing to the operating system (and to Close). A
	// process crash loses nothing; a machine crash may lose the last events,
	// and then the file ends early, which Verify cannot tell from a
	// truncation.
	FsyncNever = FsyncPolicy{mode: fsyncNever}
)

// FsyncInterval fsyncs at most once every d, in the background: a machine
// crash loses at most the last d of events. d <= 0 means FsyncBatch.
func FsyncInterval(d time.Duration) FsyncPolicy {
	if d <= 0 {
		return FsyncBatch
	}
	return FsyncPolicy{mode: fsyncInterval, every: d}
}

// WithFsync sets the FsyncPolicy of a FileSink (default FsyncBatch).
func WithFsync(p FsyncPolicy) Option { return fsyncOption(p) }

type fsyncOption FsyncPolicy

func (o fsyncOption) applyFile(c *fileConfig) { c.fsync = FsyncPolicy(o) }

type fileConfig struct {
	redactor *Redactor
	fsync    FsyncPolicy
}
