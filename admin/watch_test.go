package admin

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/identity"
)

func TestWatch(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		c := e.admin(tr)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		old := e.park("u-old")
		other := e.park("u-other")
		e.advance(30 * time.Minute)
		// Expired undecided: not worth a PENDING message.
		if _, err := e.store.Create(ctx, pendingRequest("u-gone", e.clock())); err != nil {
			t.Fatal(err)
		}
		recv, err := c.Watch(ctx, &adminv1.WatchRequest{IncludePending: true})
		if err != nil {
			t.Fatal(err)
		}
		want := func(ev adminv1.WatchResponse_Event, id string, out adminv1.Outcome) {
			t.Helper()
			got, err := recv()
			if err != nil {
				t.Fatalf("recv: %v", err)
			}
			if got.GetEvent() != ev || got.GetApproval().GetId() != id || got.GetApproval().GetOutcome() != out {
				t.Fatalf("got %v %s %v, want %v %s %v", got.GetEvent(), got.GetApproval().GetId(), got.GetApproval().GetOutcome(), ev, id, out)
			}
		}
		want(adminv1.WatchResponse_EVENT_PENDING, old, adminv1.Outcome_OUTCOME_PENDING)
		want(adminv1.WatchResponse_EVENT_PENDING, other, adminv1.Outcome_OUTCOME_PENDING)
		if err := e.store.Decide(ctx, other, denyBy("carol", e.clock())); err != nil {
			t.Fatal(err)
		}

		fresh := e.park("u-new")
		e.ticks <- e.clock() // the watcher polls
		want(adminv1.WatchResponse_EVENT_CREATED, fresh, adminv1.Outcome_OUTCOME_PENDING)
		want(adminv1.WatchResponse_EVENT_DECIDED, other, adminv1.Outcome_OUTCOME_DENIED)

		if _, err := c.Approve(ctx, &adminv1.ApproveRequest{Id: old}); err != nil {
			t.Fatal(err)
		}
		e.ticks <- e.clock()
		want(adminv1.WatchResponse_EVENT_DECIDED, old, adminv1.Outcome_OUTCOME_APPROVED)

		// Nothing changed: a tick sends nothing, and the next change is
		// the next message.
		e.ticks <- e.clock()
		last := e.park("u-last")
		e.ticks <- e.clock()
		want(adminv1.WatchResponse_EVENT_CREATED, last, adminv1.Outcome_OUTCOME_PENDING)

		cancel()
		if _, err := recv(); codeOf(err) != codes.Canceled {
			t.Errorf("after cancel: %v, want Canceled", err)
		}
	})
}

func TestWatchWithoutPending(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.park("u-1")
	recv, err := e.admin("grpc").Watch(ctx, &adminv1.WatchRequest{})
	if err != nil {
		t.Fatal(err)
	}
	e.ticks <- e.clock() // taken once the snapshot exists: u-1 is old news
	fresh := e.park("u-2")
	e.ticks <- e.clock()
	got, err := recv()
	if err != nil || got.GetEvent() != adminv1.WatchResponse_EVENT_CREATED || got.GetApproval().GetId() != fresh {
		t.Fatalf("first message: %v, %v; want CREATED %s", got, err, fresh)
	}
}

// openWatch opens a Watch as the given client and returns its receive
// function once the stream is established: a first pending request has
// been delivered (connect-go's client returns from Watch only once the
// server sent something).
func (e *env) openWatch(ctx context.Context, c client) func() (*adminv1.WatchResponse, error) {
	e.t.Helper()
	first := e.park("u-first")
	recv, err := c.Watch(ctx, &adminv1.WatchRequest{IncludePending: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if got, err := recv(); err != nil || got.GetApproval().GetId() != first {
		e.t.Fatalf("first message: %v, %v; want PENDING %s", got, err, first)
	}
	return recv
}

// wantStreamEnd checks that the next thing the stream gives is the error
// code, not a message: nothing is delivered after the check failed.
func wantStreamEnd(t *testing.T, recv func() (*adminv1.WatchResponse, error), want codes.Code) {
	t.Helper()
	got, err := recv()
	if err == nil {
		t.Fatalf("stream delivered %v %s; want it ended with %s", got.GetEvent(), got.GetApproval().GetId(), want)
	}
	wantCode(t, err, want)
}

// TestWatchEndsWhenTokenExpires: the stream keeps working while its token
// is valid and ends, without sending the next event, at the first poll
// after the token expired.
func TestWatchEndsWhenTokenExpires(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		recv := e.openWatch(ctx, e.admin(tr))

		e.advance(identity.DefaultTokenTTL - time.Second)
		live := e.park("u-live")
		e.ticks <- e.clock()
		if got, err := recv(); err != nil || got.GetApproval().GetId() != live {
			t.Fatalf("before expiry: %v, %v; want CREATED %s", got, err, live)
		}

		e.advance(identity.DefaultSkew + 2*time.Second) // past exp and the verifier's skew
		e.park("u-late")
		e.ticks <- e.clock()
		wantStreamEnd(t, recv, codes.Unauthenticated)
	})
}

// TestWatchEndsWhenRoleIsWithdrawn: the authorizer is asked again on every
// poll; once it refuses the caller, the stream ends.
func TestWatchEndsWhenRoleIsWithdrawn(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		var withdrawn atomic.Bool
		e := newEnv(t, WithAuthorizer(func(ctx context.Context, caller tollgate.Agent) error {
			if withdrawn.Load() {
				return errors.New("role withdrawn")
			}
			return RequireRole(DefaultRole)(ctx, caller)
		}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		recv := e.openWatch(ctx, e.admin(tr))
		withdrawn.Store(true)
		e.park("u-1")
		e.ticks <- e.clock()
		wantStreamEnd(t, recv, codes.PermissionDenied)
	})
}

// TestWatchWithSingleUseToken: re-checking a single-use token meets the
// replay cache, which must not end a stream that is still valid; expiry
// still does.
func TestWatchWithSingleUseToken(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t)
		pub := e.key.Public().(ed25519.PublicKey)
		keys, err := identity.NewKeySet(identity.Key{ID: identity.KeyID(pub), Public: pub})
		if err != nil {
			t.Fatal(err)
		}
		singleUse, err := identity.NewJWTVerifier(keys, identity.WithAudience(adminAudience), identity.WithClock(e.clock),
			identity.WithReplayCache(identity.NewMemoryReplayCache(identity.WithClock(e.clock))))
		if err != nil {
			t.Fatal(err)
		}
		e.approvals.cfg.verifier = singleUse
		signer, err := identity.NewSigner(e.key, identity.KeyID(pub), alice, identity.WithAudience(adminAudience), identity.WithClock(e.clock), identity.WithSingleUse())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		recv := e.openWatch(ctx, e.client(tr, signer.Token))
		fresh := e.park("u-1")
		e.ticks <- e.clock()
		if got, err := recv(); err != nil || got.GetApproval().GetId() != fresh {
			t.Fatalf("single-use token, re-checked: %v, %v; want CREATED %s", got, err, fresh)
		}
		e.advance(identity.DefaultTokenTTL + identity.DefaultSkew + time.Second)
		e.park("u-2")
		e.ticks <- e.clock()
		wantStreamEnd(t, recv, codes.Unauthenticated)
	})
}
