package tower

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/registry"
)

// versionedPolicy is a policy whose version and every reason carry name,
// so a decision tells which policy made it.
func versionedPolicy(name string, runDecision tollgate.DecisionType) string {
	return fmt.Sprintf(`version: %q
rules:
  - id: run
    tool: "mock:run"
    decision: %s
    reason: "%s decides run"
  - id: rest
    decision: DENY
    reason: "%s denies the rest"
`, name, runDecision, name, name)
}

// configDir writes a policy and the test manifest into a new directory.
func configDir(t *testing.T, policy string) Files {
	t.Helper()
	dir := t.TempDir()
	f := Files{Policy: filepath.Join(dir, "policy.yaml"), Manifest: filepath.Join(dir, "manifest.yaml")}
	writeFile(t, f.Policy, policy)
	writeFile(t, f.Manifest, testManifest)
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile replaces path as editors do: write a temporary file, rename
// it over the old one.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func loadedTower(t *testing.T, f Files) (*Tower, *recorder) {
	t.Helper()
	cfg, err := LoadFiles(f)
	if err != nil {
		t.Fatal(err)
	}
	return newTower(t, cfg)
}

// waitReload returns the result of the next reload that succeeded (ok) or
// failed (!ok), skipping the others: a write can be seen in several
// steps.
func waitReload(t *testing.T, results <-chan error, ok bool) error {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case err := <-results:
			if (err == nil) == ok {
				return err
			}
		case <-timeout:
			t.Fatalf("no reload with ok=%v within 10s", ok)
		}
	}
}

// runDecision runs mock:run and returns the policy version and reason of
// its decision, from its audit record.
func runDecision(t *testing.T, tw *Tower, rec *recorder) (string, string) {
	t.Helper()
	_, _ = tw.Execute(context.Background(), agent, intent, req("mock:run"), ok)
	e := rec.last(t)
	return e.Decision.PolicyVersion, e.Decision.Reason
}

func lastOfKind(t *testing.T, rec *recorder, kind string) audit.Event {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := len(rec.events) - 1; i >= 0; i-- {
		if rec.events[i].Kind == kind {
			return rec.events[i]
		}
	}
	t.Fatalf("no %s record", kind)
	return audit.Event{}
}

func TestWatchBrokenPolicyIsRejectedAndOldKeepsDeciding(t *testing.T) {
	f := configDir(t, versionedPolicy("v1", tollgate.Allow))
	tw, rec := loadedTower(t, f)
	results := make(chan error, 16)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Watch(ctx, tw, f, WithReloadDebounce(20*time.Millisecond), WithReloadHook(func(err error) { results <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-r.Done() }()

	// Broken on line 4, written in place over the live file.
	writeFile(t, f.Policy, "version: \"v2\"\nrules:\n  - id: run\n    decision: MAYBE\n")
	err = waitReload(t, results, false)
	var le *LoadError
	if !errors.As(err, &le) || le.File != f.Policy || le.Line != 4 {
		t.Fatalf("rejection = %#v, want a *LoadError at %s:4", err, f.Policy)
	}
	if v, reason := runDecision(t, tw, rec); v != "v1" || reason != "v1 decides run" {
		t.Fatalf("after a broken policy the call was decided by %q (%q), want v1", v, reason)
	}
	rej := lastOfKind(t, rec, audit.KindConfigRejected)
	if c := rej.Config; c.File != f.Policy || c.Line != 4 || !strings.Contains(c.Reason, "MAYBE") {
		t.Errorf("config_rejected = %+v", c)
	}

	// A good policy, put in place by a rename, takes over.
	good := versionedPolicy("v2", tollgate.Deny)
	replaceFile(t, f.Policy, good)
	if err := waitReload(t, results, true); err != nil {
		t.Fatal(err)
	}
	if v, reason := runDecision(t, tw, rec); v != "v2" || reason != "v2 decides run" {
		t.Fatalf("after a good policy the call was decided by %q (%q), want v2", v, reason)
	}
	loaded := lastOfKind(t, rec, audit.KindConfigLoaded).Config
	sum := sha256.Sum256([]byte(good))
	msum := sha256.Sum256([]byte(testManifest))
	want := []audit.ConfigFile{
		{Role: "policy", Path: f.Policy, SHA256: hex.EncodeToString(sum[:])},
		{Role: "manifest", Path: f.Manifest, SHA256: hex.EncodeToString(msum[:])},
	}
	if fmt.Sprint(loaded.Files) != fmt.Sprint(want) {
		t.Errorf("config_loaded files = %v, want %v", loaded.Files, want)
	}

	// The file missing mid-deploy: rejected, v2 stays.
	if err := os.Remove(f.Policy); err != nil {
		t.Fatal(err)
	}
	if err := waitReload(t, results, false); !errors.As(err, &le) || le.File != f.Policy || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if v, _ := runDecision(t, tw, rec); v != "v2" {
		t.Fatalf("after the policy vanished the call was decided by %q, want v2", v)
	}
}

// A manifest whose signature no longer matches is rejected like any
// other broken file: reload verifies exactly what LoadFiles does.
func TestReloadRejectsBadlySignedManifest(t *testing.T) {
	key := []byte("manifest-key")
	f := configDir(t, versionedPolicy("v1", tollgate.Allow))
	writeFile(t, f.Manifest+".sig", registry.SignHMAC([]byte(testManifest), key))
	f.ManifestOptions = []registry.Option{registry.WithHMACKey(key)}
	tw, rec := loadedTower(t, f)
	r, err := NewReloader(tw, f)
	if err != nil {
		t.Fatal(err)
	}
	old := tw.Config()
	writeFile(t, f.Manifest, strings.Replace(testManifest, "effect: write", "effect: read", 1))
	err = r.Reload(context.Background())
	var le *LoadError
	if !errors.As(err, &le) || le.File != f.Manifest || !errors.Is(err, registry.ErrSignature) {
		t.Fatalf("Reload = %v, want a signature error on %s", err, f.Manifest)
	}
	if tw.Config() != old {
		t.Error("a rejected manifest replaced the configuration")
	}
	if c := lastOfKind(t, rec, audit.KindConfigRejected).Config; c.File != f.Manifest {
		t.Errorf("config_rejected names %q, want the manifest", c.File)
	}
}

// Under concurrent calls, every decision comes from one whole policy:
// its version and its reason always name the same policy, and every call
// returns and is audited.
func TestReloadUnderLoadDecidesWithOneWholePolicy(t *testing.T) {
	f := configDir(t, versionedPolicy("A", tollgate.Allow))
	tw, rec := loadedTower(t, f)
	r, err := NewReloader(tw, f)
	if err != nil {
		t.Fatal(err)
	}
	var (
		stop  atomic.Bool
		calls atomic.Int64
		wg    sync.WaitGroup
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tool := []string{"mock:run", "mock:write"}[g%2]
			for !stop.Load() {
				_, _ = tw.Execute(context.Background(), agent, intent, req(tool), ok)
				calls.Add(1)
			}
		}()
	}
	for i := range 40 {
		name, d := "B", tollgate.Ask
		if i%2 == 1 {
			name, d = "A", tollgate.Allow
		}
		writeFile(t, f.Policy, versionedPolicy(name, d))
		if err := r.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	var audited int64
	seen := map[string]bool{}
	for _, e := range rec.events {
		if e.Kind != "" {
			continue
		}
		v := e.Decision.PolicyVersion
		if !strings.HasPrefix(e.Decision.Reason, v+" ") {
			t.Fatalf("decision by policy %q with reason %q", v, e.Decision.Reason)
		}
		seen[v] = true
		if e.Outcome != tollgate.OutcomeAuthorized {
			audited++
		}
	}
	if audited != calls.Load() || !seen["A"] || !seen["B"] {
		t.Errorf("%d calls, %d outcome records, policies seen %v", calls.Load(), audited, seen)
	}
}

func TestNewReloaderRefusesBadArguments(t *testing.T) {
	f := configDir(t, versionedPolicy("v1", tollgate.Allow))
	tw, _ := loadedTower(t, f)
	for name, c := range map[string]struct {
		t    *Tower
		f    Files
		opts []ReloadOption
	}{
		"nil tower":         {nil, f, nil},
		"no policy":         {tw, Files{Manifest: f.Manifest}, nil},
		"negative debounce": {tw, f, []ReloadOption{WithReloadDebounce(-time.Second)}},
	} {
		if _, err := NewReloader(c.t, c.f, c.opts...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Watch(context.Background(), tw, Files{Policy: filepath.Join(t.TempDir(), "gone", "policy.yaml")}); err == nil {
		t.Error("Watch of a missing directory: no error")
	}
}
