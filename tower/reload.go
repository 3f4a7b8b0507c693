package tower

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// DefaultReloadDebounce is how long a Reloader waits after the last change
// to a watched file before it reloads: an editor's save (write a temporary
// file, rename it over the old one) or a deploy's copy is several events,
// and the configuration is loaded once they have settled.
const DefaultReloadDebounce = 100 * time.Millisecond

// Reloader keeps a Tower's configuration in step with its files. Each
// reload reads, verifies (the manifest's signature included) and compiles
// the files exactly as LoadFiles does, and only then swaps the result in;
// a configuration that fails any check never takes effect, and the last
// good one keeps deciding. Every attempt is audited: config_loaded with
// the SHA-256 of each file, or config_rejected with the file, line and
// reason.
//
// A call reads the configuration once, when it starts, so every call is
// decided by one whole configuration, the old or the new; none is dropped
// or blocked by a reload.
//
// A reload builds new rate limiters: their windows start empty.
type Reloader struct {
	t        *Tower
	files    Files
	debounce time.Duration
	signals  []os.Signal
	hook     func(error)

	mu   sync.Mutex // one reload at a time
	done chan struct{}
}

// ReloadOption configures a Reloader.
type ReloadOption func(*Reloader)

// WithReloadDebounce sets how long the Reloader waits for changes to
// settle (default DefaultReloadDebounce).
func WithReloadDebounce(d time.Duration) ReloadOption {
	return func(r *Reloader) { r.debounce = d }
}

// WithReloadSignal makes the Reloader reload when the process receives one
// of sigs (typically syscall.SIGHUP), as well as on file changes. Off by
// default: a library does not take a process's signals unasked.
func WithReloadSignal(sigs ...os.Signal) ReloadOption {
	return func(r *Reloader) { r.signals = append(r.signals, sigs...) }
}

// WithReloadHook calls f after every reload attempt with its result: nil
// when the new configuration is in force, the error when it was rejected.
// f runs on the Reloader's goroutine; it must not block.
func WithReloadHook(f func(error)) ReloadOption { return func(r *Reloader) { r.hook = f } }

// NewReloader returns a Reloader of t's configuration from files. Reload
// reloads once; Watch starts watching.
func NewReloader(t *Tower, files Files, opts ...ReloadOption) (*Reloader, error) {
	if t == nil {
		return nil, errors.New("tower: NewReloader: the Tower is nil")
	}
	if files.Policy == "" {
		return nil, errors.New("tower: NewReloader: no policy file to watch")
	}
	r := &Reloader{t: t, files: files, debounce: DefaultReloadDebounce, done: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	if r.debounce < 0 {
		return nil, fmt.Errorf("tower: WithReloadDebounce(%v): negative", r.debounce)
	}
	return r, nil
}

// Watch watches files and reloads t's configuration whenever one of them
// changes (and on the signals of WithReloadSignal), until ctx is done. It
// returns once the watches are in place, so a change made after it
// returns is seen. It watches the files' directories, not the files, so a
// file replaced by a rename (as editors, `kubectl` config maps and `mv`
// do) is seen too. The manifest's signature is watched at the default
// path, the manifest's with ".sig" added; one kept elsewhere is reloaded
// by a signal or Reload.
func Watch(ctx context.Context, t *Tower, files Files, opts ...ReloadOption) (*Reloader, error) {
	r, err := NewReloader(t, files, opts...)
	if err != nil {
		return nil, err
	}
	return r, r.watch(ctx)
}

// Done is closed when a Reloader started by Watch has stopped.
func (r *Reloader) Done() <-chan struct{} { return r.done }

// watched returns the cleaned paths whose changes trigger a reload: the
// files, and in their directories the "..data" link through which a
// Kubernetes config map volume swaps all its files at once.
func (r *Reloader) watched() map[string]bool {
	files := []string{r.files.Policy}
	if m := r.files.Manifest; m != "" {
		files = append(files, m, m+".sig")
	}
	names := map[string]bool{}
	for _, f := range files {
		names[filepath.Clean(f)] = true
		names[filepath.Join(filepath.Dir(f), "..data")] = true
	}
	return names
}

func (r *Reloader) watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("tower: watching the configuration: %w", err)
	}
	names := r.watched()
	dirs := map[string]bool{}
	for name := range names {
		dirs[filepath.Dir(name)] = true // the same for a file and its "..data"
	}
	for dir := range dirs {
		if err := w.Add(dir); err != nil {
			w.Close()
			return fmt.Errorf("tower: watching the configuration: %w", err)
		}
	}
	var sigs chan os.Signal
	if len(r.signals) > 0 {
		sigs = make(chan os.Signal, 1)
		signal.Notify(sigs, r.signals...)
	}
	go r.loop(ctx, w, names, sigs)
	return nil
}

// loop reloads after changes to the watched names have settled, and at
// once on a signal.
func (r *Reloader) loop(ctx context.Context, w *fsnotify.Watcher, names map[string]bool, sigs chan os.Signal) {
	defer close(r.done)
	defer w.Close()
	if sigs != nil {
		defer signal.Stop(sigs)
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op&^fsnotify.Chmod != 0 && names[filepath.Clean(ev.Name)] {
				settle.Reset(r.debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflow may have hidden a change: reload to be sure.
			r.t.log.Error("tollgate: watching the configuration", "error", err)
			settle.Reset(r.debounce)
		case <-settle.C:
			_ = r.Reload(ctx)
		case <-sigs:
			_ = r.Reload(ctx)
		}
	}
}

// Reload loads the files once and, if every check passes, swaps the new
// configuration in. It returns the error that rejected it (a *LoadError
// for a file that failed), after auditing and logging it; the Tower's
// configuration is then unchanged.
func (r *Reloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	files, err := r.load()
	if err != nil {
		r.rejected(ctx, err)
	} else {
		r.record(ctx, &audit.Event{Kind: audit.KindConfigLoaded, Timestamp: r.t.now(), Config: &audit.ConfigChange{Files: files}})
		r.t.log.Info("tollgate: configuration reloaded", "policy", r.files.Policy, "manifest", r.files.Manifest)
	}
	if r.hook != nil {
		r.hook(err)
	}
	return err
}

// load loads and swaps in the configuration, returning the files it
// loaded with their digests. A file that changes while it is loaded is
// rejected: the digests must describe what was loaded, and the change
// that caused it brings another reload.
func (r *Reloader) load() ([]audit.ConfigFile, error) {
	before, err := r.digests()
	if err != nil {
		return nil, err
	}
	cfg, err := LoadFiles(r.files)
	if err != nil {
		return nil, err
	}
	after, err := r.digests()
	if err != nil {
		return nil, err
	}
	for i := range before {
		if before[i] != after[i] {
			return nil, &LoadError{File: before[i].Path, Err: fmt.Errorf("%s changed while it was being loaded", before[i].Path)}
		}
	}
	if err := r.t.Swap(cfg); err != nil {
		return nil, err
	}
	return after, nil
}

// digests returns the SHA-256 of each configuration file.
func (r *Reloader) digests() ([]audit.ConfigFile, error) {
	files := []audit.ConfigFile{{Role: "policy", Path: r.files.Policy}}
	if r.files.Manifest != "" {
		files = append(files, audit.ConfigFile{Role: "manifest", Path: r.files.Manifest})
	}
	for i := range files {
		f := &files[i]
		data, err := yamlx.ReadLimited(f.Path, yamlx.MaxFileSize)
		if err != nil {
			return nil, &LoadError{File: f.Path, Err: err}
		}
		sum := sha256.Sum256(data)
		f.SHA256 = hex.EncodeToString(sum[:])
	}
	return files, nil
}

// rejected audits and logs a configuration that did not load.
func (r *Reloader) rejected(ctx context.Context, err error) {
	c := &audit.ConfigChange{Reason: err.Error()}
	if le := (*LoadError)(nil); errors.As(err, &le) {
		c.File, c.Line = le.File, le.Line
	}
	r.t.log.Error("tollgate: configuration rejected; the last good one stays in force", "file", c.File, "line", c.Line, "error", err)
	r.record(ctx, &audit.Event{Kind: audit.KindConfigRejected, Timestamp: r.t.now(), Config: c})
}

// record writes a config record; a failure is counted like any other
// (Tower.AuditFailures).
func (r *Reloader) record(ctx context.Context, e *audit.Event) {
	if err := r.t.sink.Emit(context.WithoutCancel(ctx), e); err != nil {
		r.t.auditFailures.Add(1)
		r.t.log.Error("tollgate: audit write failed", "kind", e.Kind, "error", err)
	}
}
