package redistest

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStartServesPingOnLoopback(t *testing.T) {
	s := Start(t)
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr %q: want a 127.0.0.1 address (%v)", s.Addr, err)
	}
	c := s.Client(t)
	if got, err := c.Ping(t.Context()).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	// Persistence is off: a test server must never write dumps.
	cfg, err := c.ConfigGet(t.Context(), "save").Result()
	if err != nil || cfg["save"] != "" {
		t.Errorf("save = %q, %v; want persistence off", cfg["save"], err)
	}
}

func TestServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("two servers share %s", a.Addr)
	}
	if err := a.Client(t).Set(t.Context(), "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Client(t).Exists(t.Context(), "k").Result(); err != nil || n != 0 {
		t.Errorf("key written to one server is visible on the other: %d, %v", n, err)
	}
}

func TestServerStopsInCleanup(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) { addr = Start(t).Addr })
	if addr == "" {
		t.Skip("no server started")
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after the test ended", addr)
	}
}

// fakeTB records how Start ended a test that has no server to use.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// startWithoutBinary runs Start with an empty PATH in its own goroutine, as
// the testing package would, and reports how it ended.
func startWithoutBinary(t *testing.T, require string) *fakeTB {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireEnv, require)
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(f)
	}()
	<-done
	return f
}

func TestMissingBinarySkips(t *testing.T) {
	f := startWithoutBinary(t, "")
	if f.failed != "" || !strings.HasPrefix(f.skipped, "redis-server not installed: ") {
		t.Errorf("skipped %q, failed %q; want a skip", f.skipped, f.failed)
	}
}

func TestMissingBinaryFailsWhenRequired(t *testing.T) {
	f := startWithoutBinary(t, "1")
	if f.skipped != "" || !strings.Contains(f.failed, RequireEnv+"=1") {
		t.Errorf("skipped %q, failed %q; want a failure naming %s", f.skipped, f.failed, RequireEnv)
	}
}
