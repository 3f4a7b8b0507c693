package interceptor

import (
	"errors"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rpcError is a client's view of an error, the same for both stacks.
type rpcError struct {
	code  codes.Code
	msg   string
	info  *errdetails.ErrorInfo
	retry *errdetails.RetryInfo
	bad   *errdetails.BadRequest
}

func inspect(tb testing.TB, err error) rpcError {
	tb.Helper()
	var details []any
	var out rpcError
	if ce := new(connect.Error); errors.As(err, &ce) {
		out.code, out.msg = codes.Code(ce.Code()), ce.Message()
		for _, d := range ce.Details() {
			v, derr := d.Value()
			if derr != nil {
				tb.Fatalf("undecodable Connect error detail %s: %v", d.Type(), derr)
			}
			details = append(details, v)
		}
	} else {
		st, ok := status.FromError(err)
		if !ok {
			tb.Fatalf("not a status error: %T %v", err, err)
		}
		out.code, out.msg = st.Code(), st.Message()
		details = st.Details()
	}
	for _, d := range details {
		switch v := d.(type) {
		case *errdetails.ErrorInfo:
			out.info = v
		case *errdetails.RetryInfo:
			out.retry = v
		case *errdetails.BadRequest:
			out.bad = v
		default:
			tb.Fatalf("unexpected detail %T: %v", d, d)
		}
	}
	return out
}

// badFields lists the BadRequest's field names.
func (e rpcError) badFields() []string {
	var out []string
	for _, v := range e.bad.GetFieldViolations() {
		out = append(out, v.GetField())
	}
	return out
}
