package interceptor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
		{tollgate.Error{Reason: tollgate.ReasonKilled, Message: "m"}, codes.PermissionDenied, "m", -1, nil},
		{tollgate.Error{Reason: tollgate.ReasonRateLimited, Message: "m", RetryAfter: 1500 * time.Millisecond}, codes.ResourceExhausted, "m", 1500 * time.Millisecond, nil},
		{tollgate.Error{Reason: tollgate.ReasonCircuitOpen, Message: "m", RetryAfter: time.Minute}, codes.Unavailable, "m", time.Minute, nil},
		{tollgate.Error{Reason: tollgate.ReasonMessageTooLarge, Message: "m"}, codes.ResourceExhausted, "m", -1, nil},
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

func TestRetryAfterRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", -time.Second: "0", time.Nanosecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60",
	} {
		if got := retryAfter(d); got != want {
			t.Errorf("retryAfter(%v) = %q, want %q", d, got, want)
		}
	}
	ce := ConnectError(&tollgate.Error{Reason: tollgate.ReasonCircuitOpen, Message: "m", RetryAfter: 1500 * time.Millisecond})
	if got := ce.Meta().Get("Retry-After"); got != "2" {
		t.Errorf("CIRCUIT_OPEN Retry-After = %q, want 2", got)
	}
	if got := ConnectError(&tollgate.Error{Reason: tollgate.ReasonPolicyDenied, Message: "m"}).Meta().Get("Retry-After"); got != "" {
		t.Errorf("POLICY_DENIED Retry-After = %q, want none", got)
	}
}

// Every part of a refusal the client sees is bounded, cut at a character
// boundary.
func TestStatusBoundsWhatItEchoes(t *testing.T) {
	long := strings.Repeat("é", 4096) // two bytes each: cuts land mid-character
	violations := make([]tollgate.Violation, 40)
	for i := range violations {
		violations[i] = tollgate.Violation{Field: long, Description: long}
	}
	err := &tollgate.Error{Reason: tollgate.ReasonParamsInvalid, Stage: tollgate.StageSchema, Message: long, Tool: long, Violations: violations}
	for stack, got := range map[string]error{"grpc": Status(err).Err(), "connect": ConnectError(err)} {
		e := inspect(t, got)
		if len(e.msg) > MaxMessageBytes || !utf8.ValidString(e.msg) || !strings.HasSuffix(e.msg, "...") {
			t.Errorf("%s: message of %d bytes, valid UTF-8 %v", stack, len(e.msg), utf8.ValidString(e.msg))
		}
		if tool := e.info.GetMetadata()["tool"]; len(tool) > MaxDetailBytes || !utf8.ValidString(tool) {
			t.Errorf("%s: tool of %d bytes", stack, len(tool))
		}
		if n := len(e.bad.GetFieldViolations()); n != MaxViolations {
			t.Errorf("%s: %d violations, want %d", stack, n, MaxViolations)
		}
		for _, v := range e.bad.GetFieldViolations() {
			if len(v.GetField()) > MaxDetailBytes || len(v.GetDescription()) > MaxDetailBytes || !utf8.ValidString(v.GetDescription()) {
				t.Errorf("%s: violation of %d+%d bytes", stack, len(v.GetField()), len(v.GetDescription()))
			}
		}
	}
	if got := clip("short", MaxDetailBytes); got != "short" {
		t.Errorf("clip cut a short string: %q", got)
	}
}
