package admin

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate/admin/adminv1"
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
