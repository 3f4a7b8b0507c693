package admin

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/killswitch"
)

// rpcError is a refusal with the status code and the message the client
// gets. Both stacks use the same codes (connect-go's are gRPC's).
type rpcError struct {
	code codes.Code
	msg  string
}

func (e *rpcError) Error() string { return e.code.String() + ": " + e.msg }

func errorf(code codes.Code, format string, args ...any) error {
	return &rpcError{code: code, msg: fmt.Sprintf(format, args...)}
}

// internalMessage is all a client learns of a storage failure.
const internalMessage = "internal error; see the server log"

// fromStore maps a store's error to what the client gets: the store's own
// message for the refusals it documents, a generic one otherwise.
func (c *config) fromStore(ctx context.Context, op string, err error) error {
	var code codes.Code
	var re *rpcError
	switch {
	case errors.As(err, &re): // a refusal of our own, made before the store was asked
		return err
	case errors.Is(err, approvals.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, approvals.ErrAlreadyDecided), errors.Is(err, approvals.ErrExpired), errors.Is(err, approvals.ErrDuplicateApprover):
		code = codes.FailedPrecondition
	case errors.Is(err, approvals.ErrSelfApproval):
		code = codes.PermissionDenied
	case errors.Is(err, approvals.ErrInvalidDecision), errors.Is(err, grants.ErrInvalidGrant), errors.Is(err, grants.ErrExists),
		errors.Is(err, killswitch.ErrInvalidSwitch), errors.Is(err, killswitch.ErrExists):
		code = codes.InvalidArgument
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		c.log.ErrorContext(ctx, "tollgate admin: store failed", "op", op, "error", err)
		return errorf(codes.Internal, internalMessage)
	}
	return errorf(code, "%s", err.Error())
}

// split returns the code and client message of any error a handler
// returns.
func split(err error) (codes.Code, string) {
	var re *rpcError
	switch {
	case errors.As(err, &re):
		return re.code, re.msg
	case errors.Is(err, context.Canceled):
		return codes.Canceled, "the call was canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded, "the deadline passed"
	}
	return codes.Internal, internalMessage
}

func grpcError(err error) error {
	if err == nil {
		return nil
	}
	code, msg := split(err)
	return status.Error(code, msg)
}

func connectError(err error) error {
	if err == nil {
		return nil
	}
	code, msg := split(err)
	return connect.NewError(connect.Code(code), errors.New(msg))
}
