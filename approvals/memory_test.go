package approvals_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
)

func TestConformanceMemory(t *testing.T) {
	approvalstest.RunConformance(t, func(*testing.T) approvals.Store { return approvals.NewMemoryStore() })
}

func TestMemoryStoreRefusesTooDeepParams(t *testing.T) {
	deep := tollgate.Params{}
	for range tollgate.MaxDepth + 1 {
		deep = tollgate.Params{{Key: "k", Value: deep}}
	}
	r := approvals.Request{ExpiresAt: time.Unix(2000, 0), ToolRequest: tollgate.ToolRequest{Params: deep}}
	if _, err := approvals.NewMemoryStore().Create(context.Background(), r); !errors.Is(err, approvals.ErrInvalidRequest) {
		t.Fatalf("err = %v, want ErrInvalidRequest", err)
	}
}
