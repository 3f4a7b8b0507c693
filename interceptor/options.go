package interceptor

import (
	"log/slog"
	"maps"
)

// Option configures the server side: UnaryServerInterceptor,
// StreamServerInterceptor and NewConnectInterceptor.
type Option func(*serverOptions)

type serverOptions struct {
	mapper      ToolMapper
	passThrough Matcher
	log         *slog.Logger
}

func newServerOptions(opts []Option) serverOptions {
	o := serverOptions{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// ToolMapper maps a full method name ("/tickets.v1.TicketService/CloseTicket")
// to the manifest key and action of the tool call. ok=false means "no
// mapping": the default applies (the full method name as the tool, the
// method name as the action).
type ToolMapper func(fullMethod string) (tool, action string, ok bool)

// WithToolMapper sets how methods map to manifest keys, so that a manifest
// written for Tollgate ("api:close_ticket") gates a gRPC service unchanged.
// A method the mapper does not know keeps its full name, which the manifest
// will not know either: it is denied.
func WithToolMapper(m ToolMapper) Option { return func(o *serverOptions) { o.mapper = m } }

// WithToolNames maps full method names to manifest keys; the action stays
// the method name. It is WithToolMapper over a fixed table (copied here, so
// later changes to names have no effect).
func WithToolNames(names map[string]string) Option {
	table := maps.Clone(names)
	return WithToolMapper(func(fullMethod string) (string, string, bool) {
		tool, ok := table[fullMethod]
		return tool, methodName(fullMethod), ok
	})
}

// WithPassThrough lets the calls m matches reach their handler without being
// gated or audited: health checks, reflection and ORCA load reports
// (MatchInfrastructure), never tools. Without it
// every method is gated, and a method the manifest lacks is denied.
func WithPassThrough(m Matcher) Option { return func(o *serverOptions) { o.passThrough = m } }

// WithLogger sets where the interceptor logs the internal errors behind the
// few refusals it makes on its own (a request that is not a protobuf
// message, a method whose request type is not registered, a missing
// tower); the tower audits them too, when there is one.
// Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *serverOptions) { o.log = l } }
