package interceptor

import (
	"context"
	"slices"
	"strings"
)

// StreamType is the shape of an RPC.
type StreamType string

// RPC shapes, named as go-grpc-middleware names them.
const (
	Unary        StreamType = "unary"
	ClientStream StreamType = "client_stream"
	ServerStream StreamType = "server_stream"
	BidiStream   StreamType = "bidi_stream"
)

// CallMeta describes the RPC a Matcher is asked about.
type CallMeta struct {
	FullMethod string // "/tickets.v1.TicketService/CloseTicket"
	Service    string // "tickets.v1.TicketService"
	Method     string // "CloseTicket"
	Type       StreamType
}

func newCallMeta(fullMethod string, typ StreamType) CallMeta {
	service, method := splitMethod(fullMethod)
	return CallMeta{FullMethod: fullMethod, Service: service, Method: method, Type: typ}
}

// splitMethod splits "/pkg.Service/Method" into "pkg.Service" and "Method".
// A name without a slash is all method.
func splitMethod(fullMethod string) (service, method string) {
	name := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

func methodName(fullMethod string) string {
	_, m := splitMethod(fullMethod)
	return m
}

// Matcher selects calls, as go-grpc-middleware's selector.Matcher does.
// Implementations must be safe for concurrent use.
type Matcher interface {
	Match(ctx context.Context, c CallMeta) bool
}

// MatchFunc adapts a function to a Matcher.
type MatchFunc func(ctx context.Context, c CallMeta) bool

// Match calls f.
func (f MatchFunc) Match(ctx context.Context, c CallMeta) bool { return f(ctx, c) }

// MatchMethods matches the given full method names exactly
// ("/grpc.health.v1.Health/Check").
func MatchMethods(fullMethods ...string) Matcher {
	set := make(map[string]struct{}, len(fullMethods))
	for _, m := range fullMethods {
		set[m] = struct{}{}
	}
	return MatchFunc(func(_ context.Context, c CallMeta) bool {
		_, ok := set[c.FullMethod]
		return ok
	})
}

// healthAndReflection are the services MatchHealthAndReflection lets
// through: they describe the server, they are not tools.
var healthAndReflection = []string{
	"grpc.health.v1.Health",
	"grpc.reflection.v1.ServerReflection",
	"grpc.reflection.v1alpha.ServerReflection",
}

// orca is the ORCA load-report service (xds.service.orca.v3.OpenRcaService):
// it streams the server's load to balancers, and is no tool either.
const orca = "xds.service.orca.v3.OpenRcaService"

// MatchHealthAndReflection matches every method of the standard gRPC health
// service and of both server reflection services.
func MatchHealthAndReflection() Matcher { return matchServices(healthAndReflection...) }

// MatchInfrastructure matches what MatchHealthAndReflection matches and the
// ORCA load-report service (xds.service.orca.v3.OpenRcaService): the
// services grpc-go's own tooling and load balancers call, none of them a
// tool. grpc-go's interop suite passes through the gate only with all of
// them let through.
func MatchInfrastructure() Matcher {
	return matchServices(append(slices.Clone(healthAndReflection), orca)...)
}

func matchServices(services ...string) Matcher {
	return MatchFunc(func(_ context.Context, c CallMeta) bool {
		return slices.Contains(services, c.Service)
	})
}
