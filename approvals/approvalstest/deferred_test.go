package approvalstest_test

import (
	"testing"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
)

func TestDeferredConformanceMemory(t *testing.T) {
	approvalstest.RunDeferredConformance(t, func(*testing.T) approvals.Store { return approvals.NewMemoryStore() })
}
