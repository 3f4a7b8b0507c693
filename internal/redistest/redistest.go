package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequireEnv names the environment variable that turns a missing
// redis-server from a skip into a failure when set to "1".
const RequireEnv = "TOLLGATE_REQUIRE_REDIS"

// Binary is the server executable Start looks up in PATH.
const Binary = "redis-server"

// How long Start waits for a server to answer, and how often it retries on a
// port that another process took in the meantime.
const (
	readyTimeout = 10 * time.Second
	portAttempts = 5
)

// Server is a running redis-server that only this test uses.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	log    *syncBuffer   // the server's stdout and stderr
}

// Start starts a redis-server on a free loopback port and stops it in
// t.Cleanup. It skips the test when the binary is absent, unless RequireEnv
// is "1".
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redis-server not installed (%v) and %s=1; install it with: apt-get install -y redis-server", err, RequireEnv)
		}
		t.Skipf("redis-server not installed: %v (set %s=1 to fail instead)", err, RequireEnv)
	}
	dir := t.TempDir()
	var lastErr error
	for range portAttempts {
		s, err := start(bin, dir)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err // most likely the port was taken between probe and bind
	}
	t.Fatalf("redistest: could not start %s: %v", bin, lastErr)
	return nil
}

func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		exited: make(chan struct{}),
		log:    &syncBuffer{},
	}
	s.cmd = exec.Command(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, s.log.String())
	}
	return s, nil
}

// freePort asks the kernel for a free loopback port. The port is released
// before redis-server binds it, so Start retries if someone else got it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady() error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("redis-server exited before answering PING")
		case <-ctx.Done():
			return fmt.Errorf("redis-server did not answer PING within %v: %w", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// stop terminates the server and waits for it to exit.
func (s *Server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Client returns a new client for the server, closed in t.Cleanup. Each
// client has its own connection pool, so two clients stand in for two
// replicas of a service sharing the server.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// Log returns what the server has written to stdout and stderr so far.
func (s *Server) Log() string { return s.log.String() }

// syncBuffer is a bytes.Buffer the server's output goroutines and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
