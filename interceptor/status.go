package interceptor

import (
	"context"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tollgate-go/tollgate"
)

// ErrorDomain is the ErrorInfo domain of every refusal.
const ErrorDomain = "github.com/tollgate-go/tollgate"

// genericMessage replaces the message of refusals whose reason this
// version does not know, in case it carries internals.
const genericMessage = "Internal error."

// Status maps a refusal to its gRPC status. This is the one place the error
// contract lives; the Connect front door uses the same mapping
// (ConnectError):
//
//	IDENTITY_INVALID                               Unauthenticated
//	POLICY_DENIED, NETWORK_BLOCKED, APPROVAL_DENIED PermissionDenied
//	KILLED                                         PermissionDenied
//	RATE_LIMITED                                   ResourceExhausted + RetryInfo
//	MESSAGE_TOO_LARGE                              ResourceExhausted
//	CIRCUIT_OPEN                                   Unavailable + RetryInfo
//	PARAMS_INVALID, CONSTRAINT_VIOLATED            InvalidArgument + BadRequest
//	APPROVAL_PENDING                               FailedPrecondition (approvalId in ErrorInfo)
//	INTERNAL, TOOL_FAILED                          Internal
//	CANCELED                                       Canceled, or DeadlineExceeded
//
// The message is err.Message, which the pipeline keeps free of internals
// (INTERNAL and TOOL_FAILED carry a generic one). Every status carries an
// ErrorInfo with Reason = the reason code, Domain = ErrorDomain and the
// metadata keys tool, stage, policyId, correlationId and approvalId, each
// present when the refusal has a value for it. NETWORK_BLOCKED also carries
// the BadRequest naming the blocked parameters.
//
// Messages and details are bounded (MaxMessageBytes, MaxDetailBytes,
// MaxViolations): a description may quote the refused value, and a status
// must fit in the headers and trailers a client accepts whatever the
// caller sent.
func Status(err *tollgate.Error) *status.Status {
	code, msg, details := contract(err)
	st := status.New(code, msg)
	v1 := make([]protoadapt.MessageV1, len(details))
	for i, d := range details {
		v1[i] = protoadapt.MessageV1Of(d)
	}
	// WithDetails only fails for an OK status or a detail that cannot be
	// marshalled, and neither occurs here.
	if withDetails, e := st.WithDetails(v1...); e == nil {
		st = withDetails
	}
	return st
}

// ConnectError maps a refusal to a Connect error with the same code,
// message and details as Status. A refusal with RetryInfo also sets the
// HTTP Retry-After header, in whole seconds rounded up, for HTTP clients
// and proxies that know nothing of the details.
func ConnectError(err *tollgate.Error) *connect.Error {
	code, msg, details := contract(err)
	ce := connect.NewError(connect.Code(code), errors.New(msg))
	for _, d := range details {
		if detail, e := connect.NewErrorDetail(d); e == nil {
			ce.AddDetail(detail)
		}
		if r, ok := d.(*errdetails.RetryInfo); ok {
			ce.Meta().Set("Retry-After", retryAfter(r.GetRetryDelay().AsDuration()))
		}
	}
	return ce
}

// retryAfter is a delay as Retry-After's delay-seconds: whole seconds,
// rounded up, so a client that waits that long is not refused again.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// Bounds of what a refusal sends back. A gRPC status travels in headers
// and trailers (grpc-go clients accept 16 KiB of them by default), and a
// refusal may be about a value of megabytes: the client gets a clipped
// quote, never the value.
const (
	MaxMessageBytes = 1024 // the status message
	MaxDetailBytes  = 256  // each BadRequest field and description, each ErrorInfo metadata value
	MaxViolations   = 16   // BadRequest field violations (the message lists them all, clipped)
)

// contract is the error contract table: the code, the client-safe message
// and the details of a refusal.
func contract(err *tollgate.Error) (codes.Code, string, []proto.Message) {
	details := []proto.Message{errorInfo(err)}
	msg := clip(err.Message, MaxMessageBytes)
	var code codes.Code
	switch err.Reason {
	case tollgate.ReasonIdentityInvalid:
		code = codes.Unauthenticated
	case tollgate.ReasonPolicyDenied, tollgate.ReasonApprovalDenied:
		code = codes.PermissionDenied
	case tollgate.ReasonKilled:
		// Not Unavailable: a switch stays until an operator lifts it or it
		// expires, and a client that retries on Unavailable would hammer
		// the gate meanwhile.
		code = codes.PermissionDenied
	case tollgate.ReasonNetworkBlocked:
		code = codes.PermissionDenied
		details = appendBadRequest(details, err.Violations)
	case tollgate.ReasonRateLimited:
		code = codes.ResourceExhausted
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(err.RetryAfter)})
	case tollgate.ReasonMessageTooLarge:
		code = codes.ResourceExhausted
	case tollgate.ReasonCircuitOpen:
		code = codes.Unavailable
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(err.RetryAfter)})
	case tollgate.ReasonParamsInvalid, tollgate.ReasonConstraintViolated:
		code = codes.InvalidArgument
		details = appendBadRequest(details, err.Violations)
	case tollgate.ReasonApprovalPending:
		code = codes.FailedPrecondition
	case tollgate.ReasonInternal, tollgate.ReasonToolFailed:
		code = codes.Internal
	case tollgate.ReasonCanceled:
		code = codes.Canceled
		if errors.Is(err.Err, context.DeadlineExceeded) {
			code = codes.DeadlineExceeded
		}
	default:
		code, msg = codes.Internal, genericMessage
	}
	return code, msg, details
}

func errorInfo(err *tollgate.Error) *errdetails.ErrorInfo {
	meta := make(map[string]string, 5)
	for _, kv := range [...]struct{ key, value string }{
		{"tool", err.Tool},
		{"stage", string(err.Stage)},
		{"policyId", err.PolicyID},
		{"correlationId", err.CorrelationID},
		{"approvalId", err.ApprovalID},
	} {
		if kv.value != "" {
			meta[kv.key] = clip(kv.value, MaxDetailBytes)
		}
	}
	return &errdetails.ErrorInfo{Reason: string(err.Reason), Domain: ErrorDomain, Metadata: meta}
}

func appendBadRequest(details []proto.Message, violations []tollgate.Violation) []proto.Message {
	if len(violations) == 0 {
		return details
	}
	violations = violations[:min(len(violations), MaxViolations)]
	br := &errdetails.BadRequest{FieldViolations: make([]*errdetails.BadRequest_FieldViolation, len(violations))}
	for i, v := range violations {
		br.FieldViolations[i] = &errdetails.BadRequest_FieldViolation{
			Field:       clip(v.Field, MaxDetailBytes),
			Description: clip(v.Description, MaxDetailBytes),
		}
	}
	return append(details, br)
}

// clip cuts s to at most n bytes, at a character boundary, marking the cut
// with "..." (Tollgate's mark for cut summaries).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
