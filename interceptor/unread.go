package interceptor

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
)

// grpc-go and connect-go read a unary request before any interceptor runs.
// When that read fails (a message over the read limit, one that does not
// decompress or decode, no message at all), the library answers the caller
// itself and the interceptor never sees the call. StatsHandler (grpc-go)
// and ConnectHandler (connect-go) see how such a call ended and hand it to
// refuseUnread, so the refusal is audited like every other exit.

// unreadRefusal is the refusal behind a unary request the library would not
// read, from the code it answered with, or nil when the code says the call
// was not refused for its request: the caller left or timed out, the
// connection broke, or another layer decided (an authentication gate, an
// xDS filter). Connect's codes are gRPC's.
func unreadRefusal(code codes.Code, cause error) *tollgate.Error {
	switch code {
	case codes.ResourceExhausted:
		return tooLarge(cause)
	case codes.InvalidArgument, codes.Internal, codes.Unimplemented:
		// A message that does not decompress or decode: Internal from
		// grpc-go, InvalidArgument from connect-go. No message at all:
		// Internal from grpc-go, Unimplemented from connect-go. A
		// compression the server lacks: Unimplemented from grpc-go.
		return unreadable(cause)
	}
	return nil
}

// unreadable is a request the library could not read as one message: the
// caller's fault.
func unreadable(cause error) *tollgate.Error {
	return badRequest("the request is not one message the server can read (it does not decompress or decode, or there is not exactly one)", cause)
}

// refuseUnread audits a unary call the library refused before the
// interceptor ran, when its code says it was refused for its request and
// the method is gated; read reads the caller, only then. The caller already
// has the library's answer, so the record is written even when the caller
// has left: the refusal happened all the same.
func (g *gate) refuseUnread(ctx context.Context, meta CallMeta, code codes.Code, detail string, read func() caller) {
	refusal := unreadRefusal(code, fmt.Errorf("interceptor: %s: request refused before the interceptor ran: %s", meta.FullMethod, detail))
	if refusal == nil || g.passes(ctx, meta) {
		return
	}
	c := read()
	g.refuse(context.WithoutCancel(ctx), &c, meta, refusal)
}
