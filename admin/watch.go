package admin

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
)

// watch streams requests as they are created and decided, polling the
// store's pending list on every tick: an id that appears is EVENT_CREATED,
// one that disappears was decided (EVENT_DECIDED, read back from the
// store). Polling works with every backend and across processes; a
// request created and decided between two ticks is not reported, which
// leaves a watcher nothing to follow up. It ends when ctx ends (the client
// went away) or send fails, and when stillAdmin refuses: the caller's
// credentials are checked again on every tick, before anything is sent, so
// a stream ends with its token's expiry (at the first poll at or after it,
// within one WithWatchInterval) or its caller's loss of the role, and sends
// nothing after either.
func (s *ApprovalService) watch(ctx context.Context, _ tollgate.Agent, req *adminv1.WatchRequest, send func(*adminv1.WatchResponse) error, stillAdmin func(context.Context) error) error {
	recs, err := s.store.List(ctx, true)
	if err != nil {
		return s.cfg.fromStore(ctx, "watch", err)
	}
	pending := make(map[string]bool, len(recs))
	now := s.cfg.now()
	for _, rec := range recs {
		pending[rec.Request.ID] = true
		if req.GetIncludePending() && now.Before(rec.Request.ExpiresAt) {
			if err := s.send(send, adminv1.WatchResponse_EVENT_PENDING, rec); err != nil {
				return err
			}
		}
	}
	ticks, stop := s.cfg.ticks()
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
		}
		if err := stillAdmin(ctx); err != nil {
			return err
		}
		if pending, err = s.poll(ctx, pending, send); err != nil {
			return err
		}
	}
}

// poll reports what changed since the pending set was taken and returns
// the new set.
func (s *ApprovalService) poll(ctx context.Context, was map[string]bool, send func(*adminv1.WatchResponse) error) (map[string]bool, error) {
	recs, err := s.store.List(ctx, true)
	if err != nil {
		return nil, s.cfg.fromStore(ctx, "watch", err)
	}
	now := make(map[string]bool, len(recs))
	for _, rec := range recs {
		id := rec.Request.ID
		now[id] = true
		if !was[id] {
			if err := s.send(send, adminv1.WatchResponse_EVENT_CREATED, rec); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(was)) {
		if now[id] {
			continue
		}
		rec, err := s.store.Get(ctx, id)
		switch {
		case errors.Is(err, approvals.ErrNotFound):
			continue // removed from the store (cleaned up) undecided
		case err != nil:
			return nil, s.cfg.fromStore(ctx, "watch", err)
		case rec.Pending():
			now[id] = true // the store has not caught up with itself yet
			continue
		}
		if err := s.send(send, adminv1.WatchResponse_EVENT_DECIDED, rec); err != nil {
			return nil, err
		}
	}
	return now, nil
}

func (s *ApprovalService) send(send func(*adminv1.WatchResponse) error, ev adminv1.WatchResponse_Event, rec approvals.Record) error {
	return send(&adminv1.WatchResponse{Event: ev, Approval: approvalMessage(rec, s.cfg.now(), s.cfg.redactor)})
}
