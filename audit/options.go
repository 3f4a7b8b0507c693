package audit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate/identity"
)

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
	maxValue int

	ckptKey      ed25519.PrivateKey
	ckptEvery    int
	ckptInterval time.Duration
	ckptSet      bool // WithCheckpointEvery was given
	now          func() time.Time
}

func defaultFileConfig() fileConfig {
	return fileConfig{
		redactor: defaultRedactor, fsync: FsyncBatch, maxValue: DefaultMaxValueSize,
		ckptEvery: DefaultCheckpointRecords, ckptInterval: DefaultCheckpointInterval, now: time.Now,
	}
}

// checkpointer returns the configured checkpointer (nil without a key), or
// what is wrong with the options.
func (c *fileConfig) checkpointer() (*checkpointer, error) {
	switch {
	case c.now == nil:
		return nil, errors.New("audit: WithCheckpointClock(nil): pass a clock")
	case c.ckptKey == nil && c.ckptSet:
		return nil, errors.New("audit: WithCheckpointEvery needs WithCheckpointKey")
	case c.ckptKey == nil:
		return nil, nil
	case len(c.ckptKey) != ed25519.PrivateKeySize:
		return nil, fmt.Errorf("audit: WithCheckpointKey: an Ed25519 private key has %d bytes, not %d", ed25519.PrivateKeySize, len(c.ckptKey))
	}
	pub, _ := c.ckptKey.Public().(ed25519.PublicKey)
	return &checkpointer{
		key: c.ckptKey, keyID: identity.KeyID(pub), every: max(c.ckptEvery, 0), interval: max(c.ckptInterval, 0),
		now: c.now, last: c.now(),
	}, nil
}

// DefaultCheckpointRecords and DefaultCheckpointInterval are when a
// FileSink with WithCheckpointKey signs, unless WithCheckpointEvery says
// otherwise: after 1000 records or 10 seconds, whichever comes first.
const (
	DefaultCheckpointRecords  = 1000
	DefaultCheckpointInterval = 10 * time.Second
)

// WithCheckpointKey makes a FileSink append a signed checkpoint line (see
// Checkpoint) after every so many records or seconds (WithCheckpointEvery)
// and on Close: an Ed25519 signature over the seq and hash of the line
// before it. VerifyCheckpoints (tollgate audit verify --pub) then detects
// a log rewritten by someone who could write the file but not sign, up to
// the last checkpoint. key is tollgate keygen's PREFIX.key
// (ReadCheckpointKey reads it); keep it where the log's writers and readers
// cannot reach it.
func WithCheckpointKey(key ed25519.PrivateKey) Option {
	return optionFunc(func(c *fileConfig) { c.ckptKey = key })
}

// WithCheckpointEvery sets when a FileSink with WithCheckpointKey appends a
// checkpoint: once at least n records are unsigned, or d after the last
// checkpoint when some are, checked on every write and, for an idle log,
// by a timer; and always on Close. n <= 0 or d <= 0 turns that trigger
// off. The default is DefaultCheckpointRecords, DefaultCheckpointInterval.
// Records after the last checkpoint are protected by the hash chain only.
func WithCheckpointEvery(n int, d time.Duration) Option {
	return optionFunc(func(c *fileConfig) { c.ckptEvery, c.ckptInterval, c.ckptSet = n, d, true })
}

// WithCheckpointClock sets the clock that times checkpoints (default
// time.Now; for tests).
func WithCheckpointClock(now func() time.Time) Option {
	return optionFunc(func(c *fileConfig) { c.now = now })
}

// WithMaxValueSize sets the most bytes (as JSON, escapes counted) one string
// — a param value, a metadata value, the intent reason — may take in a
// record; a longer one is recorded as its first 64 bytes, its length and
// its SHA-256 (default DefaultMaxValueSize, 4 KiB; n is raised to at
// least 256 and capped at 256 KiB). See the package documentation for what
// an auditor can reconstruct.
func WithMaxValueSize(n int) Option {
	return optionFunc(func(c *fileConfig) { c.maxValue = min(max(n, minMaxValueSize), maxMaxValueSize) })
}

type optionFunc func(*fileConfig)

func (f optionFunc) applyFile(c *fileConfig) { f(c) }
