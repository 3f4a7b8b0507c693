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

// Durability says what an event whose Emit returned survives, and so what
// a pre-execution "authorized" record guarantees: the call runs only once
// its record is as durable as the mode says. The zero value is DurabilityOS.
//
//   - DurabilitySync: the record is fsynced before Emit returns; it
//     survives a power failure. Concurrent Emit calls share one write and
//     one fsync (group commit). Each Emit waits for the disk: opt in when
//     a machine crash must not lose a record.
//   - DurabilityOS (the default): the record is written (write(2)) before
//     Emit returns, so it is in the operating system's page cache and a
//     killed process (kill -9, a panic, an OOM kill) loses nothing it
//     acknowledged. The
//     file is fsynced in the background at most every DefaultSyncInterval
//     (Every changes it): a power failure may lose that window, and the
//     file then ends early, which Verify cannot tell from a truncation.
//   - DurabilityBuffered: records are kept in memory and written every
//     DefaultFlushInterval (Every changes it) and whenever 1 MiB is
//     waiting. Fastest, but kill -9 loses the window too, and a write
//     failure is reported by a later Emit, not by the one whose record it
//     lost. Never the default.
//
// Every mode writes what is waiting and fsyncs on Close.
type Durability struct {
	mode  durabilityMode
	every time.Duration // background fsync (os) or flush (buffered) interval; 0: default
}

type durabilityMode uint8

const (
	modeOS durabilityMode = iota
	modeSync
	modeBuffered
)

// DefaultSyncInterval and DefaultFlushInterval are the background fsync
// interval of DurabilityOS and the flush interval of DurabilityBuffered.
const (
	DefaultSyncInterval  = 100 * time.Millisecond
	DefaultFlushInterval = 10 * time.Millisecond
)

var (
	DurabilitySync     = Durability{mode: modeSync}
	DurabilityOS       = Durability{mode: modeOS}
	DurabilityBuffered = Durability{mode: modeBuffered}
)

// Every returns d with its interval set: the most time between background
// fsyncs for DurabilityOS (d <= 0: none; the OS writes back when it
// likes, and Close fsyncs) and between flushes for DurabilityBuffered
// (d <= 0: DefaultFlushInterval). DurabilitySync ignores it.
func (d Durability) Every(interval time.Duration) Durability {
	switch {
	case d.mode == modeSync:
		return d
	case interval <= 0 && d.mode == modeOS:
		interval = -1 // no background fsync
	case interval <= 0:
		interval = 0
	}
	d.every = interval
	return d
}

// interval returns the background interval: fsync (os), flush
// (buffered), or 0 for none.
func (d Durability) interval() time.Duration {
	switch {
	case d.mode == modeSync || d.every < 0:
		return 0
	case d.every > 0:
		return d.every
	case d.mode == modeBuffered:
		return DefaultFlushInterval
	default:
		return DefaultSyncInterval
	}
}

// String returns the mode's name: "sync", "os" or "buffered".
func (d Durability) String() string {
	switch d.mode {
	case modeSync:
		return "sync"
	case modeBuffered:
		return "buffered"
	default:
		return "os"
	}
}

// ParseDurability returns the mode named s ("sync", "os" or "buffered"),
// for flags and configuration files.
func ParseDurability(s string) (Durability, error) {
	for _, d := range []Durability{DurabilitySync, DurabilityOS, DurabilityBuffered} {
		if s == d.String() {
			return d, nil
		}
	}
	return Durability{}, fmt.Errorf("audit: unknown durability %q (want sync, os or buffered)", s)
}

// WithDurability sets what an acknowledged record survives (default
// DurabilityOS).
func WithDurability(d Durability) Option { return durabilityOption(d) }

type durabilityOption Durability

func (o durabilityOption) applyFile(c *fileConfig) { c.durability = Durability(o) }

// FsyncPolicy is the former name of Durability.
//
// Deprecated: use Durability.
type FsyncPolicy = Durability

var (
	// FsyncBatch is DurabilitySync.
	//
	// Deprecated: use DurabilitySync.
	FsyncBatch = DurabilitySync
	// FsyncNever is DurabilityOS without background fsync.
	//
	// Deprecated: use DurabilityOS (or DurabilityOS.Every(0)).
	FsyncNever = DurabilityOS.Every(0)
)

// FsyncInterval is DurabilityOS.Every(d), and DurabilitySync for d <= 0.
//
// Deprecated: use DurabilityOS.Every(d).
func FsyncInterval(d time.Duration) Durability {
	if d <= 0 {
		return DurabilitySync
	}
	return DurabilityOS.Every(d)
}

// WithFsync is WithDurability.
//
// Deprecated: use WithDurability.
func WithFsync(p Durability) Option { return WithDurability(p) }

type fileConfig struct {
	redactor   *Redactor
	durability Durability
	maxValue   int

	ckptKey      ed25519.PrivateKey
	ckptEvery    int
	ckptInterval time.Duration
	ckptSet      bool // WithCheckpointEvery was given
	now          func() time.Time
}

func defaultFileConfig() fileConfig {
	return fileConfig{
		redactor: defaultRedactor, maxValue: DefaultMaxValueSize,
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
