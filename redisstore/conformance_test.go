package redisstore

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/grants/grantstest"
	"github.com/tollgate-go/tollgate/internal/redistest"
)

// testPrefix gives every store of a test its own key space on a shared
// server, so each conformance case starts empty.
func testPrefix(t testing.TB) string { return "test:" + t.Name() + ":" }

// Pub/sub must be what wakes Wait in these tests, not the safety re-read.
var noRecheck = WithWaitRecheck(time.Hour)

// TestConformanceRedisGrants runs the grants suite on one client, and on two
// clients of one server standing in for two replicas: every call goes to
// the next replica in turn, so the 50 concurrent consumers race from two
// connection pools.
func TestConformanceRedisGrants(t *testing.T) {
	srv := redistest.Start(t)
	a, b := srv.Client(t), srv.Client(t)
	t.Run("OneClient", func(t *testing.T) {
		grantstest.RunConformance(t, func(t *testing.T) grants.Store {
			return New(a, WithPrefix(testPrefix(t))).Grants()
		})
	})
	t.Run("TwoReplicas", func(t *testing.T) {
		grantstest.RunConformance(t, func(t *testing.T) grants.Store {
			p := testPrefix(t)
			return &grantReplicas{replicas: [2]grants.Store{New(a, WithPrefix(p)).Grants(), New(b, WithPrefix(p)).Grants()}}
		})
	})
}

// TestConformanceRedisApprovals runs the approvals suite likewise. With two
// replicas, Decide always goes through the second client and Wait through
// the first, so the suite's Wait is woken by another replica's decision.
func TestConformanceRedisApprovals(t *testing.T) {
	srv := redistest.Start(t)
	a, b := srv.Client(t), srv.Client(t)
	t.Run("OneClient", func(t *testing.T) {
		approvalstest.RunConformance(t, func(t *testing.T) approvals.Store {
			return New(a, WithPrefix(testPrefix(t)), noRecheck).Approvals()
		})
	})
	t.Run("TwoReplicas", func(t *testing.T) {
		approvalstest.RunConformance(t, func(t *testing.T) approvals.Store {
			p := testPrefix(t)
			return &approvalReplicas{replicas: [2]approvals.Store{
				New(a, WithPrefix(p), noRecheck).Approvals(),
				New(b, WithPrefix(p), noRecheck).Approvals(),
			}}
		})
	})
}

// grantReplicas sends each call to the next of two stores sharing a server.
type grantReplicas struct {
	replicas [2]grants.Store
	n        atomic.Uint32
}

func (r *grantReplicas) next() grants.Store { return r.replicas[r.n.Add(1)%2] }

func (r *grantReplicas) Create(ctx context.Context, g grants.Grant) (grants.Grant, error) {
	return r.next().Create(ctx, g)
}
func (r *grantReplicas) Consume(ctx context.Context, a tollgate.Agent, req tollgate.ToolRequest, now time.Time) (grants.Grant, bool, error) {
	return r.next().Consume(ctx, a, req, now)
}
func (r *grantReplicas) Revoke(ctx context.Context, id string) (bool, error) {
	return r.next().Revoke(ctx, id)
}
func (r *grantReplicas) Get(ctx context.Context, id string) (grants.Grant, bool, error) {
	return r.next().Get(ctx, id)
}
func (r *grantReplicas) List(ctx context.Context, f grants.Filter) ([]grants.Grant, error) {
	return r.next().List(ctx, f)
}
func (r *grantReplicas) CleanupExpired(ctx context.Context, now time.Time) (int, error) {
	return r.next().CleanupExpired(ctx, now)
}

// approvalReplicas sends Wait to the first store, Decide to the second and
// every other call to the next store in turn.
type approvalReplicas struct {
	replicas [2]approvals.Store
	n        atomic.Uint32
}

func (r *approvalReplicas) next() approvals.Store { return r.replicas[r.n.Add(1)%2] }

func (r *approvalReplicas) Create(ctx context.Context, req approvals.Request) (string, error) {
	return r.next().Create(ctx, req)
}
func (r *approvalReplicas) Get(ctx context.Context, id string) (approvals.Record, error) {
	return r.next().Get(ctx, id)
}
func (r *approvalReplicas) Decide(ctx context.Context, id string, d approvals.Decision) error {
	return r.replicas[1].Decide(ctx, id, d)
}
func (r *approvalReplicas) Wait(ctx context.Context, id string) (approvals.Record, error) {
	return r.replicas[0].Wait(ctx, id)
}
func (r *approvalReplicas) Consume(ctx context.Context, id, hash string, now time.Time) error {
	return r.next().Consume(ctx, id, hash, now)
}
func (r *approvalReplicas) List(ctx context.Context, pendingOnly bool) ([]approvals.Record, error) {
	return r.next().List(ctx, pendingOnly)
}

// newClient starts a server for the test and returns a client of it.
func newClient(t *testing.T) *redis.Client {
	t.Helper()
	return redistest.Start(t).Client(t)
}

// newTestStore starts a server and returns a Store on it and its client.
func newTestStore(t *testing.T, opts ...Option) (*Store, *redis.Client) {
	t.Helper()
	c := newClient(t)
	return New(c, opts...), c
}
