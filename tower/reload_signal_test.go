//go:build unix

package tower

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
)

// SIGHUP reloads at once, whatever the debounce, when WithReloadSignal
// asks for it.
func TestWatchReloadsOnSIGHUP(t *testing.T) {
	f := configDir(t, versionedPolicy("v1", tollgate.Allow))
	tw, rec := loadedTower(t, f)
	results := make(chan error, 16)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Watch(ctx, tw, f, WithReloadSignal(syscall.SIGHUP), WithReloadDebounce(time.Hour),
		WithReloadHook(func(err error) { results <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-r.Done() }()
	writeFile(t, f.Policy, versionedPolicy("v2", tollgate.Deny))
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := waitReload(t, results, true); err != nil {
		t.Fatal(err)
	}
	if v, _ := runDecision(t, tw, rec); v != "v2" {
		t.Fatalf("after SIGHUP the call was decided by %q, want v2", v)
	}
}
