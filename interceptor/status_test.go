package interceptor

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
)

func TestStatusContract(t *testing.T) {
	violations := []tollgate.Violation{{Field: "params.url", Description: "params.url: bad"}}
	cases := []struct {
		err    tollgate.Error
		code   codes.Code
		msg    string
		retry  time.Duration // -1: no RetryInfo
		fields []string
	}{
		{tollgate.Error{Reason: tollgate.ReasonIdentityInvalid, Message: "m"}, codes.Unauthenticated, "m", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonPolicyDenied, Message: "m"}, codes.PermissionDenied, "m", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonNetworkBlocked, Message: "m", Violations: violations}, codes.PermissionDenied, "m", -1, []string{"params.url"}},
		{tollgate.Error{Reason: tollgate.ReasonApprovalDenied, Message: "m"}, codes.PermissionDenied, "m", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonRateLimited, Message: "m", RetryAfter: 1500 * time.Millisecond}, codes.ResourceExhausted, "m", 1500 * time.Millisecond, nil},
		{tollgate.Error{Reason: tollgate.ReasonCircuitOpen, Message: "m", RetryAfter: time.Minute}, codes.Unavailable, "m", time.Minute, nil},
		{tollgate.Error{Reason: tollgate.ReasonParamsInvalid, Message: "m", Violations: violations}, codes.InvalidArgument, "m", -1, []string{"params.url"}},
		{tollgate.Error{Reason: tollgate.ReasonConstraintViolated, Message: "m", Violations: violations}, codes.InvalidArgument, "m", -1, []string{"params.url"}},
		{tollgate.Error{Reason: tollgate.ReasonApprovalPending, Message: "m", ApprovalID: "a1"}, codes.FailedPrecondition, "m", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonInternal, Message: "Internal error."}, codes.Internal, "Internal error.", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonToolFailed, Message: "Tool call failed."}, codes.Internal, "Tool call failed.", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonCanceled, Message: "m", Err: context.Canceled}, codes.Canceled, "m", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonCanceled, Message: "m", Err: context.DeadlineExceeded}, codes.DeadlineExceeded, "m", -1, nil},
		{tollgate.Error{Reason: "FROM_THE_FUTURE", Message: "may hold internals"}, codes.Internal, genericMessage, -1, nil},
	}
	for _, tc := range cases {
		t.Run(string(tc.err.Reason), func(t *testing.T) {
			tc.err.Stage, tc.err.Tool, tc.err.CorrelationID = tollgate.StagePolicy, "api:x", "c1"
			for stack, err := range map[string]error{"grpc": Status(&tc.err).Err(), "connect": ConnectError(&tc.err)} {
				e := inspect(t, err)
				if e.code != tc.code || e.msg != tc.msg {
					t.Errorf("%s: %v %q, want %v %q", stack, e.code, e.msg, tc.code, tc.msg)
				}
				want := map[string]string{"tool": "api:x", "stage": "policy", "correlationId": "c1"}
				if tc.err.ApprovalID != "" {
					want["approvalId"] = tc.err.ApprovalID
				}
				if e.info.GetReason() != string(tc.err.Reason) || e.info.GetDomain() != ErrorDomain || !mapsEqual(e.info.GetMetadata(), want) {
					t.Errorf("%s: ErrorInfo = %v, want reason %s metadata %v", stack, e.info, tc.err.Reason, want)
				}
				if got := retryOf(e); got != tc.retry {
					t.Errorf("%s: retry = %v, want %v", stack, got, tc.retry)
				}
				if !slices.Equal(e.badFields(), tc.fields) {
					t.Errorf("%s: BadRequest fields = %q, want %q", stack, e.badFields(), tc.fields)
				}
			}
		})
	}
}

func retryOf(e rpcError) time.Duration {
	if e.retry == nil {
		return -1
	}
	return e.retry.GetRetryDelay().AsDuration()
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestStatusLeavesOutEmptyMetadata(t *testing.T) {
	e := inspect(t, Status(&tollgate.Error{Reason: tollgate.ReasonInternal, Message: genericMessage, Err: errors.New("secret")}).Err())
	if len(e.info.GetMetadata()) != 0 {
		t.Errorf("metadata = %v, want none", e.info.GetMetadata())
	}
}
