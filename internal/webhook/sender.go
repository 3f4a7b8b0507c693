package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Header names every delivery sets.
const (
	HeaderSignature = "X-Tollgate-Signature"
	HeaderTimestamp = "X-Tollgate-Timestamp"
)

// Backoff between delivery attempts: backoffBase, doubled per retry, at
// most backoffMax.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 8 * time.Second
)

var (
	// ErrClosed is returned by Send after Close, and by a second Close.
	ErrClosed = errors.New("webhook: closed")
	// ErrQueueFull is returned by Send when the queue has no room; the body
	// is dropped and counted.
	ErrQueueFull = errors.New("webhook: queue full, body dropped")
)

// Sender posts queued bodies to one URL. Create it with New; it is safe
// for concurrent use. Close drains the queue.
type Sender struct {
	url string
	cfg config

	mu     sync.RWMutex // guards closed and sending on queue
	closed bool
	queue  chan []byte

	ctx    context.Context // canceled when Close gives up draining
	cancel context.CancelFunc
	done   chan struct{}

	delivered, failed, dropped atomic.Uint64
}

// Stats counts what happened to the bodies a Sender was given.
type Stats struct {
	Delivered uint64 // a 2xx response was received
	Failed    uint64 // every attempt failed
	Dropped   uint64 // never attempted: the queue was full, or Close gave up
}

// New returns a Sender posting to rawURL, an absolute http or https URL.
// Its goroutine runs until Close.
func New(rawURL string, opts ...Option) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook: URL %q must be an absolute http:// or https:// URL", rawURL)
	}
	cfg := config{
		client:    &http.Client{Timeout: 5 * time.Second, CheckRedirect: noRedirects},
		queueSize: 1024,
		retries:   3,
		clock:     time.Now,
		sleep:     sleepCtx,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sender{url: rawURL, cfg: cfg, queue: make(chan []byte, cfg.queueSize), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Send queues body for delivery and returns at once. The Sender keeps
// body: the caller must not change it afterwards. A full queue drops it
// (ErrQueueFull, counted in Stats().Dropped).
func (s *Sender) Send(body []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.queue <- body:
		return nil
	default:
		s.dropped.Add(1)
		return ErrQueueFull
	}
}

// Stats returns the delivery counters.
func (s *Sender) Stats() Stats {
	return Stats{Delivered: s.delivered.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load()}
}

// Close stops accepting bodies and waits until the queued ones are
// delivered or have failed. When ctx ends first, the delivery in progress
// is abandoned, the rest of the queue is dropped, and ctx.Err() is
// returned.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()
	select {
	case <-s.done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-s.done
		return ctx.Err()
	}
}

func (s *Sender) run() {
	defer close(s.done)
	for body := range s.queue {
		switch {
		case s.ctx.Err() != nil:
			s.dropped.Add(1)
		case s.deliver(body):
			s.delivered.Add(1)
		default:
			s.failed.Add(1)
		}
	}
}

// deliver posts body, retrying with backoff; it reports success.
func (s *Sender) deliver(body []byte) bool {
	wait := backoffBase
	for attempt := 0; ; attempt++ {
		ok, retryable := s.post(body)
		if ok {
			return true
		}
		if !retryable || attempt >= s.cfg.retries || s.cfg.sleep(s.ctx, wait) != nil {
			return false
		}
		wait = min(2*wait, backoffMax)
	}
}

// post makes one attempt. retryable says whether another may succeed:
// network errors, 408, 429 and 5xx.
func (s *Sender) post(body []byte) (ok, retryable bool) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false, false
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range s.cfg.headers {
		req.Header.Set(k, v)
	}
	// Set last, so that custom headers cannot replace them. Each attempt
	// is signed with its own time, so a retry is as fresh as the first.
	at := s.cfg.clock()
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	if s.cfg.secret != nil {
		req.Header.Set(HeaderSignature, Sign(s.cfg.secret, body, at))
	}
	resp, err := s.cfg.client.Do(req)
	if err != nil {
		return false, s.ctx.Err() == nil
	}
	// Drain a little so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return true, false
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return false, true
	}
	return false, false
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
