package interceptor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/identity"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/tower"
)

// testClock is a settable clock shared by the tower, the token verifier,
// its replay cache and the signer.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := new(testClock)
	c.ns.Store(testNow.UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

const (
	tokenAudience = "interceptor-test"
	tokenTTL      = time.Minute
)

// tokenRig is a tower that verifies single-use agent tokens (a real replay
// cache), and a signer minting them for testAgent.
type tokenRig struct {
	tw     *tower.Tower
	rec    *recorder
	clock  *testClock
	signer *identity.Signer // single-use (a new token per call) unless reusableTokens
}

type rigConfig struct {
	cfg      *tower.Config
	opts     []tower.Option
	reusable bool // tokens without a replay cache
}

type rigOption func(*rigConfig)

// reusableTokens verifies tokens without a replay cache; the signer mints
// one token per TTL.
func reusableTokens(c *rigConfig) { c.reusable = true }

// askMarked makes a message ASK (deferred) when its text or name starts
// with "ask:", and otherwise decides by the test policy: per-message
// decisions within one stream, as a policy that reads params has them.
func askMarked(store approvals.Store) rigOption {
	return func(c *rigConfig) {
		yaml := c.cfg.Policy
		c.cfg.Policy = policy.EvaluatorFunc(func(a tollgate.Agent, i tollgate.Intent, r tollgate.ToolRequest) tollgate.Decision {
			for _, key := range []string{"text", "name"} {
				if s, _ := r.Params.Get(key); strings.HasPrefix(asString(s), "ask:") {
					return tollgate.Decision{Type: tollgate.Ask, Reason: "Marked for approval", PolicyID: "ask_marked", AskMode: tollgate.AskDeferred}
				}
			}
			return yaml.Evaluate(a, i, r)
		})
		c.opts = append(c.opts, tower.WithApprovalStore(store, time.Hour))
	}
}

func asString(v any) string { s, _ := v.(string); return s }

func newTokenRig(tb testing.TB, opts ...rigOption) *tokenRig {
	tb.Helper()
	r := &tokenRig{rec: newRecorder(), clock: newTestClock()}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := identity.NewKeySet(identity.Key{ID: "k1", Public: pub})
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := tower.LoadFiles(tower.Files{Policy: "testdata/policy.yaml", Manifest: "testdata/manifest.yaml", Clock: r.clock.now})
	if err != nil {
		tb.Fatal(err)
	}
	c := rigConfig{cfg: cfg}
	for _, o := range opts {
		o(&c)
	}
	vopts := []identity.JWTOption{identity.WithAudience(tokenAudience), identity.WithClock(r.clock.now)}
	sopts := []identity.SignerOption{identity.WithAudience(tokenAudience), identity.WithClock(r.clock.now), identity.WithTTL(tokenTTL)}
	if !c.reusable {
		vopts = append(vopts, identity.WithReplayCache(identity.NewMemoryReplayCache(identity.WithClock(r.clock.now))))
		sopts = append(sopts, identity.WithSingleUse())
	}
	verifier, err := identity.NewJWTVerifier(keys, vopts...)
	if err != nil {
		tb.Fatal(err)
	}
	if r.signer, err = identity.NewSigner(priv, "k1", testAgent, sopts...); err != nil {
		tb.Fatal(err)
	}
	topts := append([]tower.Option{
		tower.WithVerifier(verifier),
		tower.WithAuditSink(r.rec),
		tower.WithClock(r.clock.now),
		tower.WithLogger(slog.New(slog.DiscardHandler)),
	}, c.opts...)
	if r.tw, err = tower.New(c.cfg, topts...); err != nil {
		tb.Fatal(err)
	}
	return r
}

// token mints one token, for tests that present it several times.
func (r *tokenRig) token(tb testing.TB) func(context.Context) (string, error) {
	tb.Helper()
	tok, err := r.signer.Token(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return func(context.Context) (string, error) { return tok, nil }
}

func wantReason(tb testing.TB, what string, err error, code codes.Code, reason tollgate.Reason) rpcError {
	tb.Helper()
	if err == nil {
		tb.Fatalf("%s: no error, want %v %s", what, code, reason)
	}
	e := inspect(tb, err)
	if e.code != code || e.info.GetReason() != string(reason) {
		tb.Fatalf("%s = %v %q %v; want %v %s", what, e.code, e.msg, e.info, code, reason)
	}
	return e
}

// TestStreamSingleUseToken: a stream presents its single-use token once,
// with its headers; every message of the stream is bound to that
// verification, while a unary call or another stream presenting the same
// token again is refused.
func TestStreamSingleUseToken(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			r := newTokenRig(t)
			c := v.dial(t, r.tw, nil, []ClientOption{WithTokenSource(r.signer.Token)})
			ctx := t.Context()
			if n, err := c.Upload(ctx, "a", "b", "c"); err != nil || n != 3 {
				t.Fatalf("Upload = %d, %v; want 3 chunks", n, err)
			}
			replies, err := c.Chat(ctx, "one", "two", "three")
			if want := []string{"re one by test-agent", "re two by test-agent", "re three by test-agent"}; err != nil || !slices.Equal(replies, want) {
				t.Fatalf("Chat = %q, %v; want %q", replies, err, want)
			}
			if got, want := r.rec.outcomes(), slices.Repeat([]tollgate.Outcome{tollgate.OutcomeExecuted}, 6); !slices.Equal(got, want) {
				t.Errorf("audited outcomes = %v, want %v", got, want)
			}

			// One token, presented by a stream, then by a unary call and by
			// another stream: only the first stream may use it.
			reused := v.dial(t, r.tw, nil, []ClientOption{WithTokenSource(r.token(t))})
			if replies, err := reused.Chat(ctx, "one", "two"); err != nil || len(replies) != 2 {
				t.Fatalf("first stream with the token = %q, %v", replies, err)
			}
			_, err = reused.Echo(ctx, "hi")
			wantReason(t, "unary call replaying the stream's token", err, codes.Unauthenticated, tollgate.ReasonIdentityInvalid)
			_, err = reused.Chat(ctx, "one")
			wantReason(t, "second stream replaying the token", err, codes.Unauthenticated, tollgate.ReasonIdentityInvalid)
			_, err = reused.Upload(ctx, "a", "b")
			wantReason(t, "client stream replaying the token", err, codes.Unauthenticated, tollgate.ReasonIdentityInvalid)

			// Unary calls are not weakened: a replay is refused.
			unary := v.dial(t, r.tw, nil, []ClientOption{WithTokenSource(r.token(t))})
			if got, err := unary.Echo(ctx, "hi"); err != nil || got != "test-agent:hi" {
				t.Fatalf("first unary call = %q, %v", got, err)
			}
			_, err = unary.Echo(ctx, "hi")
			wantReason(t, "unary replay", err, codes.Unauthenticated, tollgate.ReasonIdentityInvalid)
		})
	}
}

// chatStream is one open bidi Chat stream, driven a message at a time.
type chatStream interface {
	say(text string) (string, error)
}

type grpcChat struct {
	s interface {
		Send(*testv1.ChatMessage) error
		Recv() (*testv1.ChatMessage, error)
	}
}

func (g grpcChat) say(text string) (string, error) {
	if err := g.s.Send(&testv1.ChatMessage{Text: text}); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	m, err := g.s.Recv()
	return m.GetText(), err
}

type connectChat struct {
	s *connect.BidiStreamForClient[testv1.ChatMessage, testv1.ChatMessage]
}

func (c connectChat) say(text string) (string, error) {
	if err := c.s.Send(&testv1.ChatMessage{Text: text}); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	m, err := c.s.Receive()
	return m.GetText(), err
}

// stack opens Chat and Watch streams over one client stack.
type stack struct {
	name  string
	chat  func(tb testing.TB, ctx context.Context, tw *tower.Tower, copts []ClientOption) chatStream
	watch func(tb testing.TB, ctx context.Context, tw *tower.Tower, copts []ClientOption) (recv func() (string, error))
}

func connectHTTPClient(tb testing.TB) *http.Client {
	hc := &http.Client{Transport: &http.Transport{Protocols: clientProtocols()}}
	tb.Cleanup(hc.CloseIdleConnections)
	return hc
}

var stacks = []stack{
	{
		name: "grpc-go",
		chat: func(tb testing.TB, ctx context.Context, tw *tower.Tower, copts []ClientOption) chatStream {
			s, err := dialGRPC(tb, startGRPC(tb, tw), copts...).Chat(ctx)
			if err != nil {
				tb.Fatal(err)
			}
			return grpcChat{s}
		},
		watch: func(tb testing.TB, ctx context.Context, tw *tower.Tower, copts []ClientOption) func() (string, error) {
			s, err := dialGRPC(tb, startGRPC(tb, tw), copts...).Watch(ctx, &testv1.WatchRequest{Topic: "tickets", Count: 1 << 30})
			if err != nil {
				tb.Fatal(err)
			}
			return func() (string, error) { e, err := s.Recv(); return e.GetTopic(), err }
		},
	},
	{
		name: "connect",
		chat: func(tb testing.TB, ctx context.Context, tw *tower.Tower, copts []ClientOption) chatStream {
			s := connectStub(connectHTTPClient(tb), startConnect(tb, tw), copts).Chat(ctx)
			tb.Cleanup(func() { _ = s.CloseResponse() })
			return connectChat{s}
		},
		watch: func(tb testing.TB, ctx context.Context, tw *tower.Tower, copts []ClientOption) func() (string, error) {
			s, err := connectStub(connectHTTPClient(tb), startConnect(tb, tw), copts).Watch(ctx, connect.NewRequest(&testv1.WatchRequest{Topic: "tickets", Count: 1 << 30}))
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { _ = s.Close() })
			return func() (string, error) {
				if !s.Receive() {
					return "", s.Err()
				}
				return s.Msg().GetTopic(), nil
			}
		},
	},
}

// TestStreamTokenExpiry: the stream's verification does not outlive its
// token: a message sent after the token expired is refused.
func TestStreamTokenExpiry(t *testing.T) {
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			r := newTokenRig(t)
			chat := st.chat(t, t.Context(), r.tw, []ClientOption{WithTokenSource(r.signer.Token)})
			if got, err := chat.say("one"); err != nil || got != "re one by test-agent" {
				t.Fatalf("first message = %q, %v", got, err)
			}
			r.clock.advance(tokenTTL - time.Second)
			if got, err := chat.say("two"); err != nil || got != "re two by test-agent" {
				t.Fatalf("message before exp = %q, %v", got, err)
			}
			// Past exp and the verifier's tolerated skew.
			r.clock.advance(time.Second + identity.DefaultSkew)
			_, err := chat.say("three")
			wantReason(t, "message after exp", err, codes.Unauthenticated, tollgate.ReasonIdentityInvalid)
			if got, want := r.rec.outcomes(), []tollgate.Outcome{tollgate.OutcomeExecuted, tollgate.OutcomeExecuted, tollgate.OutcomeBlocked}; !slices.Equal(got, want) {
				t.Errorf("audited outcomes = %v, want %v", got, want)
			}
		})
	}
}

// TestStreamDeferredApproval: the approval id a stream brings is redeemed
// by its first ASK message; ALLOW messages run as they always do, and every
// later ASK message asks on its own. With single-use tokens as well.
func TestStreamDeferredApproval(t *testing.T) {
	tokens := []struct {
		name string
		opts []rigOption
	}{{"reusable tokens", []rigOption{reusableTokens}}, {"single-use tokens", nil}}
	for _, v := range variants {
		for _, tok := range tokens {
			t.Run(v.name+"/"+tok.name, func(t *testing.T) {
				store := approvals.NewMemoryStore()
				testStreamDeferredApproval(t, v, store, newTokenRig(t, append(tok.opts, askMarked(store))...))
			})
		}
	}
}

func testStreamDeferredApproval(t *testing.T, v variant, store approvals.Store, r *tokenRig) {
	c := v.dial(t, r.tw, nil, []ClientOption{WithTokenSource(r.signer.Token)})
	ctx := t.Context()

	replies, err := c.Chat(ctx, "ask:one")
	first := wantReason(t, "first ASK message", err, codes.FailedPrecondition, tollgate.ReasonApprovalPending).info.GetMetadata()["approvalId"]
	if first == "" || len(replies) != 0 {
		t.Fatalf("pending refusal: approval id %q, replies %q", first, replies)
	}
	if err := store.Decide(ctx, first, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "reviewer", At: r.clock.now()}); err != nil {
		t.Fatal(err)
	}

	// The retried stream: an ALLOW message, the approved ASK
	// message, another ALLOW message, then a new ASK message.
	retry := ContextWithApprovalID(ctx, first)
	replies, err = c.Chat(retry, "plain", "ask:one", "after", "ask:two")
	if want := []string{"re plain by test-agent", "re ask:one by test-agent", "re after by test-agent"}; !slices.Equal(replies, want) {
		t.Errorf("replies = %q, want %q", replies, want)
	}
	second := wantReason(t, "second ASK message", err, codes.FailedPrecondition, tollgate.ReasonApprovalPending).info.GetMetadata()["approvalId"]
	if second == "" || second == first {
		t.Fatalf("second ASK message got approval id %q; want its own (first was %q)", second, first)
	}
	if rec, err := store.Get(ctx, second); err != nil || !rec.Pending() {
		t.Fatalf("second approval = %+v, %v; want pending", rec, err)
	}
	if _, err := c.Chat(retry, "ask:one"); err == nil {
		t.Fatal("a used approval ran a stream again")
	}

	// A client stream: the id binds its first ASK message exactly.
	_, err = c.Upload(ctx, "ask:up", "b")
	up := wantReason(t, "client stream ASK", err, codes.FailedPrecondition, tollgate.ReasonApprovalPending).info.GetMetadata()["approvalId"]
	if err := store.Decide(ctx, up, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "reviewer", At: r.clock.now()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Upload(ContextWithApprovalID(ctx, up), "ask:other")
	wantReason(t, "approval redeemed by another message", err, codes.PermissionDenied, tollgate.ReasonApprovalDenied)
	// A mismatch does not spend the approval: the approved message
	// still redeems it, and the ALLOW messages after it run.
	if n, err := c.Upload(ContextWithApprovalID(ctx, up), "ask:up", "b", "c"); err != nil || n != 3 {
		t.Fatalf("approved client stream = %d, %v; want 3 chunks", n, err)
	}
}

// TestServerStreamCanceled: a server stream the client cancels while the
// handler still sends is audited as canceled, with a plain summary.
func TestServerStreamCanceled(t *testing.T) {
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			tw, rec := newTower(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			recv := st.watch(t, ctx, tw, []ClientOption{WithAgent(testAgent)})
			if got, err := recv(); err != nil || got != "test-agent/tickets" {
				t.Fatalf("first event = %q, %v", got, err)
			}
			cancel()
			rec.wait(t, 2) // authorized, then how the stream ended
			rec.mu.Lock()
			last := rec.events[len(rec.events)-1]
			rec.mu.Unlock()
			if last.Outcome != tollgate.OutcomeCanceled {
				t.Errorf("outcome = %q, want %q", last.Outcome, tollgate.OutcomeCanceled)
			}
			if want := "Call canceled: context canceled"; last.ResultSummary != want {
				t.Errorf("result summary = %q, want %q", last.ResultSummary, want)
			}
		})
	}
}
