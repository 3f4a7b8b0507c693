package interceptor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/tower"
)

// structService takes google.protobuf.Struct requests, one method of each
// shape, so a test can send params the front door cannot render: a Struct
// nested deeper than tollgate.MaxDepth decodes fine and fails to render.
// It is registered in the global registry, as generated code would be, so
// the front doors find the server stream's request type.
const structService = "tollgate.test.v1.StructService"

func init() {
	method := func(name string, client, server bool) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".google.protobuf.Struct"),
			OutputType: proto.String(".google.protobuf.Empty"), ClientStreaming: proto.Bool(client), ServerStreaming: proto.Bool(server)}
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:       proto.String("tollgate/test/v1/struct_service.proto"),
		Package:    proto.String("tollgate.test.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/struct.proto", "google/protobuf/empty.proto"},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("StructService"), Method: []*descriptorpb.MethodDescriptorProto{
			method("Put", false, false), method("Watch", false, true), method("Upload", true, false), method("Chat", true, true),
		}}},
	}, protoregistry.GlobalFiles)
	if err == nil {
		err = protoregistry.GlobalFiles.RegisterFile(fd)
	}
	if err != nil {
		panic(err)
	}
}

// deepStruct is a Struct nested depth levels deep.
func deepStruct(depth int) *structpb.Struct {
	s := &structpb.Struct{}
	for range depth - 1 {
		s = &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStructValue(s)}}
	}
	return s
}

// structShapes are the four RPC shapes, each sending one message.
var structShapes = []struct {
	name           string
	client, server bool
}{
	{"unary", false, false}, {"server stream", false, true}, {"client stream", true, false}, {"bidi", true, true},
}

func fullMethod(shape string) string {
	name := map[string]string{"unary": "Put", "server stream": "Watch", "client stream": "Upload", "bidi": "Chat"}[shape]
	return "/" + structService + "/" + name
}

// startStructGRPC serves the struct service behind the gRPC front door
// (ServerOptions); every handler reads to the end of the stream and answers
// one Empty.
func startStructGRPC(tb testing.TB, tw *tower.Tower, sopts ...grpc.ServerOption) *grpc.ClientConn {
	tb.Helper()
	unary := func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		in := new(structpb.Struct)
		if err := dec(in); err != nil {
			return nil, err
		}
		return ic(ctx, in, &grpc.UnaryServerInfo{FullMethod: fullMethod("unary")}, func(context.Context, any) (any, error) {
			return &emptypb.Empty{}, nil
		})
	}
	drain := func(_ any, s grpc.ServerStream) error {
		for {
			if err := s.RecvMsg(new(structpb.Struct)); errors.Is(err, io.EOF) {
				return s.SendMsg(&emptypb.Empty{})
			} else if err != nil {
				return err
			}
		}
	}
	desc := grpc.ServiceDesc{ServiceName: structService, HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Put", Handler: unary}}}
	for _, s := range structShapes[1:] {
		desc.Streams = append(desc.Streams, grpc.StreamDesc{StreamName: strings.TrimPrefix(fullMethod(s.name), "/"+structService+"/"),
			Handler: drain, ClientStreams: s.client, ServerStreams: s.server})
	}
	lis := listen(tb)
	srv := grpc.NewServer(append(sopts, ServerOptions(tw, quiet)...)...)
	srv.RegisterService(&desc, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(srv.Stop)
	return grpcConn(tb, lis.Addr().String())
}

// callGRPC sends msg on the shape's method and returns the call's error.
func callGRPC(ctx context.Context, cc *grpc.ClientConn, shape string, client, server bool, msg proto.Message) error {
	if !client && !server {
		return cc.Invoke(ctx, fullMethod(shape), msg, new(emptypb.Empty))
	}
	s, err := cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: client, ServerStreams: server}, fullMethod(shape))
	if err != nil {
		return err
	}
	if err := s.SendMsg(msg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	for {
		if err := s.RecvMsg(new(emptypb.Empty)); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func startStructConnect(tb testing.TB, tw *tower.Tower, hopts ...connect.HandlerOption) string {
	tb.Helper()
	opts := append([]connect.HandlerOption{ConnectHandlerOptions(tw, quiet)}, hopts...)
	empty := connect.NewResponse(&emptypb.Empty{})
	mux := http.NewServeMux()
	mux.Handle(fullMethod("unary"), connect.NewUnaryHandler(fullMethod("unary"),
		func(context.Context, *connect.Request[structpb.Struct]) (*connect.Response[emptypb.Empty], error) {
			return empty, nil
		}, opts...))
	mux.Handle(fullMethod("server stream"), connect.NewServerStreamHandler(fullMethod("server stream"),
		func(_ context.Context, _ *connect.Request[structpb.Struct], s *connect.ServerStream[emptypb.Empty]) error {
			return s.Send(&emptypb.Empty{})
		}, opts...))
	mux.Handle(fullMethod("client stream"), connect.NewClientStreamHandler(fullMethod("client stream"),
		func(_ context.Context, s *connect.ClientStream[structpb.Struct]) (*connect.Response[emptypb.Empty], error) {
			for s.Receive() {
			}
			return empty, s.Err()
		}, opts...))
	mux.Handle(fullMethod("bidi"), connect.NewBidiStreamHandler(fullMethod("bidi"),
		func(_ context.Context, s *connect.BidiStream[structpb.Struct, emptypb.Empty]) error {
			for {
				if _, err := s.Receive(); errors.Is(err, io.EOF) {
					return s.Send(&emptypb.Empty{})
				} else if err != nil {
					return err
				}
			}
		}, opts...))
	lis := listen(tb)
	srv := &http.Server{Handler: ConnectHandler(mux), Protocols: serverProtocols()}
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + lis.Addr().String()
}

// callConnect sends msg on the shape's method and returns the call's error.
func callConnect(ctx context.Context, url, shape string, msg *structpb.Struct, copts ...connect.ClientOption) error {
	hc := &http.Client{Transport: &http.Transport{Protocols: clientProtocols()}}
	defer hc.CloseIdleConnections()
	copts = append(copts, connect.WithInterceptors(NewConnectClientInterceptor(WithAgent(testAgent))))
	c := connect.NewClient[structpb.Struct, emptypb.Empty](hc, url+fullMethod(shape), copts...)
	switch shape {
	case "unary":
		_, err := c.CallUnary(ctx, connect.NewRequest(msg))
		return err
	case "server stream":
		s, err := c.CallServerStream(ctx, connect.NewRequest(msg))
		if err != nil {
			return err
		}
		defer s.Close()
		for s.Receive() {
		}
		return s.Err()
	case "client stream":
		s := c.CallClientStream(ctx)
		_ = s.Send(msg) // a refusal ends the stream; CloseAndReceive has it
		_, err := s.CloseAndReceive()
		return err
	}
	s := c.CallBidiStream(ctx)
	defer s.CloseResponse()
	_ = s.Send(msg)
	if err := s.CloseRequest(); err != nil {
		return err
	}
	for {
		if _, err := s.Receive(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// wantFrontDoorRefusal checks what the client got and what the audit log
// holds: one blocked record at the front door with the verified agent.
func wantFrontDoorRefusal(t *testing.T, rec *recorder, err error, code codes.Code, reason tollgate.Reason, tool string) {
	t.Helper()
	e := inspect(t, err)
	if e.code != code || e.info.GetReason() != string(reason) || e.info.GetMetadata()["stage"] != string(tollgate.StageFrontDoor) {
		t.Fatalf("got %v %q %v, want %v %s at the front door", e.code, e.msg, e.info, code, reason)
	}
	if len(e.msg) > MaxMessageBytes {
		t.Errorf("message of %d bytes", len(e.msg))
	}
	if got := wantAudited(t, rec, reason, tool); got != e.info.GetMetadata()["correlationId"] {
		t.Errorf("the refusal's correlation id %q is not the record's %q", e.info.GetMetadata()["correlationId"], got)
	}
}

// wantAudited checks the audit log holds exactly one record, blocked at the
// front door with the verified agent, and returns its correlation id.
func wantAudited(t *testing.T, rec *recorder, reason tollgate.Reason, tool string) string {
	t.Helper()
	rec.wait(t, 1)
	got := rec.last(t)
	if got.Outcome != tollgate.OutcomeBlocked || got.Stage != tollgate.StageFrontDoor || got.ReasonCode != reason {
		t.Errorf("audit record: outcome %s stage %s reason %s", got.Outcome, got.Stage, got.ReasonCode)
	}
	if got.Agent.ID != testAgent.ID || got.ToolRequest.Tool != tool {
		t.Errorf("audit record: agent %q tool %q", got.Agent.ID, got.ToolRequest.Tool)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("%d audit records, want 1", n)
	}
	return got.CorrelationID
}

// A request that decodes but cannot be rendered as params is refused as
// PARAMS_INVALID at the front door, and audited, on every shape and stack
// (it used to be Internal with no record).
func TestUnrenderableParamsAreAudited(t *testing.T) {
	deep := deepStruct(tollgate.MaxDepth + 5)
	for _, s := range structShapes {
		t.Run("grpc-go/"+s.name, func(t *testing.T) {
			tw, rec := newTower(t)
			cc := startStructGRPC(t, tw)
			ctx := interceptedContext(t)
			err := callGRPC(ctx, cc, s.name, s.client, s.server, deep)
			wantFrontDoorRefusal(t, rec, err, codes.InvalidArgument, tollgate.ReasonParamsInvalid, fullMethod(s.name))
		})
		t.Run("connect/"+s.name, func(t *testing.T) {
			tw, rec := newTower(t)
			err := callConnect(t.Context(), startStructConnect(t, tw), s.name, deep)
			wantFrontDoorRefusal(t, rec, err, codes.InvalidArgument, tollgate.ReasonParamsInvalid, fullMethod(s.name))
		})
	}
}

// interceptedContext carries the test agent's header, as the client
// interceptor would send it.
func interceptedContext(tb testing.TB) context.Context {
	tb.Helper()
	v, err := encodeAgent(testAgent)
	if err != nil {
		tb.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(tb.Context(), HeaderAgent, v)
}

// A server stream whose request type is not registered cannot be read by
// the front door: INTERNAL, audited.
func TestUnknownRequestTypeIsAudited(t *testing.T) {
	tw, rec := newTower(t)
	lis := listen(t)
	srv := grpc.NewServer(grpc.ChainStreamInterceptor(StreamServerInterceptor(tw, quiet)))
	const method = "/tollgate.test.v1.Unregistered/Watch"
	srv.RegisterService(&grpc.ServiceDesc{ServiceName: "tollgate.test.v1.Unregistered", HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "Watch", ServerStreams: true, Handler: func(any, grpc.ServerStream) error {
			t.Error("handler ran")
			return nil
		}}}}, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc := grpcConn(t, lis.Addr().String())
	s, err := cc.NewStream(interceptedContext(t), &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.SendMsg(&emptypb.Empty{})
	_ = s.CloseSend()
	err = s.RecvMsg(new(emptypb.Empty))
	wantFrontDoorRefusal(t, rec, err, codes.Internal, tollgate.ReasonInternal, method)
}

// A streaming message over the server's read limit is refused as
// MESSAGE_TOO_LARGE and audited. grpc-go answers the client itself the
// moment a read fails, so its client sees grpc-go's ResourceExhausted; a
// Connect client sees the refusal. Over Connect the limit is
// ConnectHandlerOptions' default and counts decompressed bytes: 5 MiB that
// travel as a few KB of gzip are refused.
func TestOversizedStreamMessageIsAudited(t *testing.T) {
	big := &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue(strings.Repeat("a", 5<<20))}}
	for _, s := range structShapes[1:] {
		t.Run("grpc-go/"+s.name, func(t *testing.T) {
			tw, rec := newTower(t)
			cc := startStructGRPC(t, tw, grpc.MaxRecvMsgSize(1<<10))
			err := callGRPC(interceptedContext(t), cc, s.name, s.client, s.server,
				&structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue(strings.Repeat("a", 2<<10))}})
			if e := inspect(t, err); e.code != codes.ResourceExhausted {
				t.Fatalf("got %v %q, want ResourceExhausted", e.code, e.msg)
			}
			wantAudited(t, rec, tollgate.ReasonMessageTooLarge, fullMethod(s.name))
		})
		t.Run("connect/"+s.name, func(t *testing.T) {
			tw, rec := newTower(t)
			err := callConnect(t.Context(), startStructConnect(t, tw), s.name, big, connect.WithSendGzip())
			wantFrontDoorRefusal(t, rec, err, codes.ResourceExhausted, tollgate.ReasonMessageTooLarge, fullMethod(s.name))
		})
	}
}

// A refusal of a huge value does not echo it: the client gets the refusal
// (not "Internal: peer header list size exceeded"), with a bounded message
// and BadRequest, on every stack.
func TestHugeValueRefusalIsBounded(t *testing.T) {
	huge := strings.Repeat("\x01", 3<<20)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tw, _ := newTower(t)
			c := v.dial(t, tw, nil, []ClientOption{WithAgent(testAgent)})
			_, err := c.Watch(t.Context(), huge, 1) // allowed_values quotes the value
			e := inspect(t, err)
			if e.code != codes.InvalidArgument || e.info.GetReason() != string(tollgate.ReasonConstraintViolated) {
				t.Fatalf("got %v %.200q, want InvalidArgument CONSTRAINT_VIOLATED", e.code, e.msg)
			}
			if !strings.HasPrefix(e.msg, `Constraint violation: Parameter 'topic': value '\x01\x01`) || !strings.HasSuffix(e.msg, "...") {
				t.Errorf("message = %.100q...%q, want the quote clipped", e.msg, e.msg[max(0, len(e.msg)-20):])
			}
			if len(e.msg) > MaxMessageBytes {
				t.Errorf("message of %d bytes", len(e.msg))
			}
			for _, fv := range e.bad.GetFieldViolations() {
				if len(fv.GetDescription()) > MaxDetailBytes || len(fv.GetField()) > MaxDetailBytes {
					t.Errorf("violation of %d+%d bytes", len(fv.GetField()), len(fv.GetDescription()))
				}
			}
		})
	}
}

// Connect refusals with RetryInfo set Retry-After, in seconds rounded up,
// for plain HTTP clients.
func TestConnectRetryAfterHeader(t *testing.T) {
	tw, _ := newTower(t)
	url := startConnect(t, tw) + echoMethod
	agent, err := encodeAgent(limitedAgent)
	if err != nil {
		t.Fatal(err)
	}
	post := func() *http.Response {
		r, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader([]byte(`{"message":"hi"}`)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(HeaderAgent, agent)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("first call: %s", resp.Status)
	}
	resp := post()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("second call: %s, Retry-After %q; want 429 and 60", resp.Status, resp.Header.Get("Retry-After"))
	}
}
