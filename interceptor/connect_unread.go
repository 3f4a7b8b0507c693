package interceptor

import (
	"context"
	"net/http"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
)

// ConnectHandler wraps a Connect handler, or the mux serving several, so
// the front door sees what connect-go does outside its interceptors. It
// passes the TLS state on, as TLSHandler does, and it audits the unary
// calls connect-go refuses before any interceptor runs: connect-go reads
// and decodes a unary request before calling the interceptors, so a
// request over the read limit, or one that does not decompress or decode,
// is answered by connect-go and never reaches the interceptor. With the
// handlers built with ConnectHandlerOptions, such a call is refused by the
// front door on its own and audited through tower.Tower.Refuse with the
// caller's verified agent: MESSAGE_TOO_LARGE for ResourceExhausted,
// PARAMS_INVALID for a request connect-go could not read (InvalidArgument,
// Unimplemented, Internal). A call that ended otherwise before its request
// was read (the caller left or timed out) was not refused, and is not
// audited; neither are methods WithPassThrough lets through. The caller
// gets connect-go's own error.
//
//	srv := &http.Server{Handler: interceptor.ConnectHandler(mux), Protocols: p}
//
// Connect writes such an error before its handler returns, so ConnectHandler
// reads it from the response: grpc-status for the gRPC and gRPC-Web
// protocols, the HTTP status for the Connect protocol (429 is
// ResourceExhausted, 400 InvalidArgument, 501 Unimplemented).
func ConnectHandler(next http.Handler) http.Handler {
	return TLSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := new(connectUnary)
		rw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), connectUnaryKey{}, u)))
		u.ended(r.Context(), rw)
	}))
}

// connectUnary follows one HTTP request through a Connect handler: the
// request gate opens it for a gated unary call, the interceptor marks it
// reached. connect-go serves a unary call on the goroutine of its
// ServeHTTP, so the fields need no lock.
type connectUnary struct {
	g       *gate // nil until a gated unary call opened
	meta    CallMeta
	header  http.Header
	reached bool
}

type connectUnaryKey struct{}

// connectOpened is the request gate ConnectHandlerOptions installs: it runs
// before connect-go reads the request, and opens the request's
// connectUnary for a gated unary call. It never refuses.
func (g *gate) connectOpened(ctx context.Context, spec connect.Spec, _ connect.Peer, header http.Header) (context.Context, error) {
	if spec.StreamType != connect.StreamTypeUnary {
		return nil, nil // stream messages are read, and audited, inside the interceptor
	}
	u, ok := ctx.Value(connectUnaryKey{}).(*connectUnary)
	if !ok {
		g.unwrapped.Do(func() {
			g.o.log.WarnContext(ctx, "tollgate: Connect handler not wrapped with interceptor.ConnectHandler: unary requests connect-go refuses before the interceptor runs are not audited", "procedure", spec.Procedure)
		})
		return nil, nil
	}
	u.g, u.meta, u.header = g, newCallMeta(spec.Procedure, Unary), header
	return nil, nil
}

// reachedConnect marks the call of ctx as seen by the interceptor, which
// gates and audits it from there.
func reachedConnect(ctx context.Context) {
	if u, ok := ctx.Value(connectUnaryKey{}).(*connectUnary); ok {
		u.reached = true
	}
}

// ended audits a gated unary call that connect-go refused before the
// interceptor ran.
func (u *connectUnary) ended(ctx context.Context, w *statusWriter) {
	if u.g == nil || u.reached {
		return
	}
	code, detail := w.rpcStatus()
	u.g.refuseUnread(ctx, u.meta, code, detail, func() caller { return u.g.connectCaller(ctx, u.header) })
}

// statusWriter remembers the HTTP status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush is what connect-go asks for (http.Flusher) to stream.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rpcStatus is the status of the call as the response says it:
// grpc-status (a gRPC trailer, or a gRPC-Web trailers-only header), or for
// the Connect protocol the code its HTTP status stands for. It is Unknown
// when the response says nothing this front door would audit.
func (w *statusWriter) rpcStatus() (codes.Code, string) {
	h := w.Header()
	for _, key := range []string{http.TrailerPrefix + "Grpc-Status", "Grpc-Status"} {
		if v, ok := h[key]; ok && len(v) > 0 {
			if n, err := strconv.ParseUint(v[0], 10, 32); err == nil {
				return codes.Code(n), "grpc-status " + v[0]
			}
		}
	}
	detail := "HTTP status " + strconv.Itoa(w.status)
	switch w.status {
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted, detail
	case http.StatusBadRequest:
		return codes.InvalidArgument, detail
	case http.StatusNotImplemented:
		return codes.Unimplemented, detail
	}
	return codes.Unknown, detail
}
