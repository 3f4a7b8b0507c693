package interceptor

import (
	"bytes"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/internal/testproto/testv1connect"
	"github.com/tollgate-go/tollgate/tower"
)

// connectProtocols are the protocols a connect-go handler serves.
var connectProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil}, {"grpc", []connect.ClientOption{connect.WithGRPC()}}, {"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

// bigStruct is a Struct with one string of n bytes.
func bigStruct(n int) *structpb.Struct {
	return &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue(strings.Repeat("a", n))}}
}

// wantLibraryRefusal checks the caller got the library's own code and the
// audit log holds the front door's record of the refusal.
func wantLibraryRefusal(t *testing.T, rec *recorder, err error, code codes.Code, reason tollgate.Reason) {
	t.Helper()
	if e := inspect(t, err); e.code != code {
		t.Fatalf("got %v %q, want %v", e.code, e.msg, code)
	}
	wantAudited(t, rec, reason, fullMethod("unary"))
}

// A unary request over the read limit is refused by grpc-go or connect-go
// before any interceptor runs; it is audited all the same, once, as
// MESSAGE_TOO_LARGE with the verified agent (it used to leave no record).
// Over gzip the limit counts decompressed bytes: 5 MiB that travel as a few
// KB are refused.
func TestOversizedUnaryIsAudited(t *testing.T) {
	big := bigStruct(DefaultReadMaxBytes + 1<<20)
	t.Run("grpc-go", func(t *testing.T) {
		tw, rec := newTower(t)
		cc := startStructGRPC(t, tw, grpc.MaxRecvMsgSize(1<<10))
		err := callGRPC(interceptedContext(t), cc, "unary", false, false, bigStruct(2<<10))
		wantLibraryRefusal(t, rec, err, codes.ResourceExhausted, tollgate.ReasonMessageTooLarge)
	})
	t.Run("grpc-go/gzip", func(t *testing.T) {
		tw, rec := newTower(t)
		cc := startStructGRPC(t, tw)
		err := cc.Invoke(interceptedContext(t), fullMethod("unary"), big, new(emptypb.Empty), grpc.UseCompressor(gzip.Name))
		wantLibraryRefusal(t, rec, err, codes.ResourceExhausted, tollgate.ReasonMessageTooLarge)
	})
	for _, p := range connectProtocols {
		t.Run("connect/"+p.name+"/gzip", func(t *testing.T) {
			tw, rec := newTower(t)
			err := callConnect(t.Context(), startStructConnect(t, tw), "unary", big, append(p.opts, connect.WithSendGzip())...)
			wantLibraryRefusal(t, rec, err, codes.ResourceExhausted, tollgate.ReasonMessageTooLarge)
		})
	}
}

// rawCodec sends []byte as the request message unchanged, so a test can
// send bytes that do not decode.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { return nil }
func (rawCodec) Name() string                       { return "proto" }

// notProto is not a protobuf message: a field tag that never ends.
var notProto = []byte{0xff}

// A unary request that does not decode is refused by the library before
// any interceptor runs; it is audited as PARAMS_INVALID.
func TestUndecodableUnaryIsAudited(t *testing.T) {
	t.Run("grpc-go", func(t *testing.T) {
		tw, rec := newTower(t)
		cc := startStructGRPC(t, tw)
		err := cc.Invoke(interceptedContext(t), fullMethod("unary"), notProto, new(emptypb.Empty), grpc.ForceCodec(rawCodec{}))
		wantLibraryRefusal(t, rec, err, codes.Internal, tollgate.ReasonParamsInvalid)
	})
	t.Run("connect/grpc", func(t *testing.T) {
		tw, rec := newTower(t)
		cc := grpcConn(t, strings.TrimPrefix(startStructConnect(t, tw), "http://"))
		err := cc.Invoke(interceptedContext(t), fullMethod("unary"), notProto, new(emptypb.Empty), grpc.ForceCodec(rawCodec{}))
		wantLibraryRefusal(t, rec, err, codes.InvalidArgument, tollgate.ReasonParamsInvalid)
	})
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		status            int
	}{
		{"connect", "application/proto", notProto, http.StatusBadRequest},
		{"connect/json", "application/json", []byte("{"), http.StatusBadRequest},
		{"grpcweb", "application/grpc-web+proto", append([]byte{0, 0, 0, 0, byte(len(notProto))}, notProto...), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw, rec := newTower(t)
			resp := postRaw(t, startStructConnect(t, tw)+fullMethod("unary"), tc.contentType, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP status %s, want %d", resp.Status, tc.status)
			}
			wantAudited(t, rec, tollgate.ReasonParamsInvalid, fullMethod("unary"))
		})
	}
}

// postRaw posts body as the test agent.
func postRaw(t *testing.T, url, contentType string, body []byte) *http.Response {
	t.Helper()
	agent, err := encodeAgent(testAgent)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set(HeaderAgent, agent)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

// record is what a test checks of one audit record.
type record struct {
	outcome tollgate.Outcome
	stage   tollgate.Stage
	reason  tollgate.Reason
}

func (r *recorder) records() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]record, len(r.events))
	for i, e := range r.events {
		out[i] = record{e.Outcome, e.Stage, e.ReasonCode}
	}
	return out
}

// frontDoors serve the test service behind each front door with a 1 KiB
// read limit. serve returns the address and a stop that returns once every
// call is done, the front door's work after the answer included.
var frontDoors = []struct {
	name   string
	serve  func(tb testing.TB, tw *tower.Tower, opts ...Option) (addr string, stop func())
	client func(tb testing.TB, addr string, a tollgate.Agent) toolClient
}{
	{"grpc-go", serveToolGRPC, func(tb testing.TB, addr string, a tollgate.Agent) toolClient {
		return grpcToolClient{dialGRPC(tb, addr, WithAgent(a))}
	}},
	{"connect", serveToolConnect, connectToolClientFor()},
	{"connect/grpc", serveToolConnect, connectToolClientFor(connect.WithGRPC())},
	{"connect/grpcweb", serveToolConnect, connectToolClientFor(connect.WithGRPCWeb())},
}

func serveToolGRPC(tb testing.TB, tw *tower.Tower, opts ...Option) (string, func()) {
	lis := listen(tb)
	// WaitForHandlers: Stop returns once the stats handler saw every End.
	s := grpc.NewServer(append(ServerOptions(tw, append(opts, quiet)...), grpc.MaxRecvMsgSize(1<<10), grpc.WaitForHandlers(true))...)
	testv1.RegisterToolServiceServer(s, grpcService{})
	go func() { _ = s.Serve(lis) }()
	tb.Cleanup(s.Stop)
	return lis.Addr().String(), s.Stop
}

func serveToolConnect(tb testing.TB, tw *tower.Tower, opts ...Option) (string, func()) {
	mux := http.NewServeMux()
	mux.Handle(testv1connect.NewToolServiceHandler(connectService{}, ConnectHandlerOptions(tw, append(opts, quiet)...), connect.WithReadMaxBytes(1<<10)))
	h := ConnectHandler(mux)
	// Every call has started (Add) before its client returns, so Wait after
	// the last call waits for them all.
	var served sync.WaitGroup
	lis := listen(tb)
	srv := &http.Server{Protocols: serverProtocols(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		defer served.Done()
		h.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + lis.Addr().String(), served.Wait
}

func connectToolClientFor(protocol ...connect.ClientOption) func(testing.TB, string, tollgate.Agent) toolClient {
	return func(tb testing.TB, url string, a tollgate.Agent) toolClient {
		return newConnectToolClient(tb, url, []ClientOption{WithAgent(a)}, protocol...)
	}
}

// Calls the gate sees are audited exactly as before, once, by the
// interceptor, whatever their code (a rate-limited call is
// ResourceExhausted too); a request refused unread is audited once.
func TestUnreadAuditedOnce(t *testing.T) {
	want := []record{
		{tollgate.OutcomeAuthorized, "", ""}, {tollgate.OutcomeExecuted, "", ""},
		{tollgate.OutcomeBlocked, tollgate.StagePolicy, tollgate.ReasonPolicyDenied},
		{tollgate.OutcomeAuthorized, "", ""}, {tollgate.OutcomeExecuted, "", ""},
		{tollgate.OutcomeBlocked, tollgate.StageRateLimit, tollgate.ReasonRateLimited},
		{tollgate.OutcomeBlocked, tollgate.StageFrontDoor, tollgate.ReasonMessageTooLarge},
	}
	calls := []struct {
		agent tollgate.Agent
		msg   string
		code  codes.Code
	}{
		{testAgent, "hi", codes.OK},
		{blockedAgent, "hi", codes.PermissionDenied},
		{limitedAgent, "hi", codes.OK},
		{limitedAgent, "hi", codes.ResourceExhausted},
		{testAgent, strings.Repeat("a", 2<<10), codes.ResourceExhausted},
	}
	for _, fd := range frontDoors {
		t.Run(fd.name, func(t *testing.T) {
			tw, rec := newTower(t)
			addr, stop := fd.serve(t, tw)
			for i, c := range calls {
				_, err := fd.client(t, addr, c.agent).Echo(t.Context(), c.msg)
				if got := codeOf(t, err); got != c.code {
					t.Fatalf("call %d: %v, want %v", i, err, c.code)
				}
			}
			stop()
			if got := rec.records(); !slices.Equal(got, want) {
				t.Errorf("audit records:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// A method WithPassThrough lets through is not audited, even when the
// library refuses its request unread.
func TestUnreadPassThroughNotAudited(t *testing.T) {
	skip := WithPassThrough(MatchMethods(testv1.ToolService_Echo_FullMethodName))
	for _, fd := range frontDoors {
		t.Run(fd.name, func(t *testing.T) {
			tw, rec := newTower(t)
			addr, stop := fd.serve(t, tw, skip)
			_, err := fd.client(t, addr, testAgent).Echo(t.Context(), strings.Repeat("a", 2<<10))
			if got := codeOf(t, err); got != codes.ResourceExhausted {
				t.Fatalf("%v, want ResourceExhausted", err)
			}
			stop()
			if n := rec.count(); n != 0 {
				t.Errorf("%d audit records, want none", n)
			}
		})
	}
}

func codeOf(t *testing.T, err error) codes.Code {
	t.Helper()
	if err == nil {
		return codes.OK
	}
	return inspect(t, err).code
}

// lockedBuffer is a log destination a server goroutine writes while the
// test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A handler built with ConnectHandlerOptions but not wrapped with
// ConnectHandler still gates every call, and says once that it cannot
// audit the unary requests connect-go refuses.
func TestConnectUnwrappedWarnsOnce(t *testing.T) {
	tw, rec := newTower(t)
	var logs lockedBuffer
	mux := http.NewServeMux()
	mux.Handle(testv1connect.NewToolServiceHandler(connectService{},
		ConnectHandlerOptions(tw, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))))
	lis := listen(t)
	srv := &http.Server{Handler: mux, Protocols: serverProtocols()}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })
	c := newConnectToolClient(t, "http://"+lis.Addr().String(), []ClientOption{WithAgent(testAgent)})
	for range 2 {
		if _, err := c.Echo(t.Context(), "hi"); err != nil {
			t.Fatal(err)
		}
	}
	rec.wait(t, 4) // authorized and executed, twice
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "interceptor.ConnectHandler") {
		t.Errorf("%d warnings, want 1 naming ConnectHandler:\n%s", n, logs.String())
	}
}
