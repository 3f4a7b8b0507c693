// Package interceptor is Tollgate's front door for grpc-go and connect-go:
// install one interceptor and every method of a service is a gated,
// audited tool call, with no change to the handlers.
//
// The shapes are go-grpc-middleware's and connect-go's own:
// UnaryServerInterceptor and StreamServerInterceptor return grpc-go's
// interceptor types, NewConnectInterceptor returns a connect.Interceptor,
// and UnaryClientInterceptor, StreamClientInterceptor and
// NewConnectClientInterceptor attach an agent's credentials and intent to
// outgoing calls. Chain them with grpc.ChainUnaryInterceptor and
// connect.WithInterceptors; there is no chain type here.
//
// # What is gated
//
// Each call becomes a tower.Call. The tool is the full method name
// ("/tickets.v1.TicketService/CloseTicket") and the action the method name,
// unless WithToolMapper or WithToolNames map it to another manifest key. The
// params are the request message rendered by protojson with proto field
// names (64-bit integers are JSON strings there) and parsed with
// tollgate.ParseParams. Fields without presence are rendered with their
// zero value ("" for a string), which proto3 does not send, so a constraint
// on such a field always runs; unset message, optional and oneof fields are
// left out. A method the manifest lacks is denied by the tower; only
// methods matched by WithPassThrough (MatchInfrastructure,
// MatchHealthAndReflection, MatchMethods) skip the gate, and they are not
// audited.
//
// Streams are never let through unchecked:
//
//   - Server streaming: the interceptor reads the request before the
//     handler starts and gates it; the handler is the execution, so its
//     error counts for the circuit breaker and is audited.
//   - Client streaming and bidi: every received message is its own tool
//     call, with the stream's identity and intent, audited one record per
//     message. Its execution is its delivery to the handler (the handler's
//     later work with it is outside the tower). A refused message is never
//     delivered; it ends the stream with its status whatever the handler
//     returns. A stream that sends before any message was allowed, or that
//     ends without a message, is gated once with empty params.
//
// # Identity and intent
//
// Callers send HeaderIntentAction, HeaderIntentReason, HeaderApprovalID and,
// in the legacy identity mode, HeaderAgent (the agent context as JSON with
// Tollgate's "_signature" in its metadata). All headers (lower-case names)
// and the peer's TLS state go to the tower's verifier in
// identity.Credentials, so token and certificate verifiers need nothing from
// this package. The handler runs with the verified agent in its context
// (identity.FromContext); for client and bidi streams the context carries
// it from the moment a message of the stream was allowed.
//
// A call without HeaderAgent claims the zero Agent: with a verifier, only
// other credentials can then identify it; without one, it is an anonymous
// caller that the policy decides like any other.
//
// A malformed HeaderAgent is refused as IDENTITY_INVALID at the tower's
// identity stage, audited as blocked: the interceptor hands the tower the
// zero Agent and the parse error (tower.Call.CredentialsErr). A verifier
// then decides from the remaining credentials, so a valid bearer token still
// proves who is calling; without a verifier the call is refused.
//
// # Errors
//
// A refusal becomes one fixed status code per reason, with an ErrorInfo
// (domain ErrorDomain) and RetryInfo or BadRequest where they apply; Status
// and ConnectError hold the table and are exported for reuse. Messages and
// details are bounded (MaxMessageBytes, MaxDetailBytes, MaxViolations), so
// a refusal never echoes a huge value. A handler's own error passes
// through unchanged; a panicking handler becomes Internal with a generic
// message, logged and audited by the tower.
//
// The front door refuses a few calls itself, before the pipeline can
// decide them: a request it cannot render as params (PARAMS_INVALID), a
// streaming message over the read limit (MESSAGE_TOO_LARGE), a request type
// it cannot find (INTERNAL). They go through tower.Tower.Refuse, so the
// caller is verified and the refusal audited at stage "frontdoor" like any
// other exit. grpc-go and connect-go read a unary request before any
// interceptor runs, so they answer a unary request over the limit, or one
// that does not decompress or decode, themselves; StatsHandler (grpc-go)
// and ConnectHandler (connect-go) see such calls end and audit them the
// same way (MESSAGE_TOO_LARGE, PARAMS_INVALID).
//
// # Installing
//
// ServerOptions installs the grpc-go front door: both interceptors and
// StatsHandler. ConnectHandlerOptions installs the Connect front door on a
// handler, with a read limit; wrap the handler, or the mux serving it, with
// ConnectHandler. The parts alone (UnaryServerInterceptor,
// StreamServerInterceptor, NewConnectInterceptor) gate every call, but
// leave unary requests the library refuses unaudited.
//
// # Read limits
//
// grpc-go reads messages of up to 4 MiB unless grpc.MaxRecvMsgSize says
// otherwise; connect-go has no limit. ConnectHandlerOptions installs the
// Connect front door with DefaultReadMaxBytes (4 MiB after decompression).
//
// # Chaining
//
// ServerOptions chains its interceptors after those of the options before
// it. Put the Tollgate interceptor after observability (logging, metrics,
// tracing), so refusals are logged and measured like any other error, and
// after a recovery interceptor, which is then the outermost: it catches
// panics in the interceptors themselves. A handler's panic never reaches
// recovery: the tower recovers it, audits it and answers Internal.
//
//	srv := grpc.NewServer(append([]grpc.ServerOption{
//		grpc.ChainUnaryInterceptor(
//			recovery.UnaryServerInterceptor(recovery.WithRecoveryHandler(toInternal)),
//			logging.UnaryServerInterceptor(logger),
//		),
//		grpc.ChainStreamInterceptor(
//			recovery.StreamServerInterceptor(recovery.WithRecoveryHandler(toInternal)),
//			logging.StreamServerInterceptor(logger),
//		),
//	}, interceptor.ServerOptions(gate, interceptor.WithPassThrough(interceptor.MatchInfrastructure()))...)...)
package interceptor
