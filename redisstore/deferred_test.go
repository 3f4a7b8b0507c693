package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
	"github.com/tollgate-go/tollgate/internal/redistest"
	"github.com/tollgate-go/tollgate/redisstore"
)

// Deferred approvals through a real Tower, stored in a real redis-server:
// approved retries run once (also when 50 race), other calls are refused.
func TestDeferredConformanceRedis(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int32
	approvalstest.RunDeferredConformance(t, func(t *testing.T) approvals.Store {
		prefix := fmt.Sprintf("deferred%d:", n.Add(1))
		return redisstore.New(srv.Client(t), redisstore.WithPrefix(prefix)).Approvals()
	})
}
