package interceptor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

func TestParams(t *testing.T) {
	got, err := params(&testv1.UploadSummary{Chunks: 2, Bytes: 5})
	// protojson: proto field names, 64-bit integers as strings.
	want := tollgate.Params{{Key: "chunks", Value: json.Number("2")}, {Key: "bytes", Value: "5"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	// Proto3 cannot tell a zero from unset: zeros are rendered, so a
	// constraint on the field always runs.
	got, err = params(&testv1.UploadSummary{})
	want = tollgate.Params{{Key: "chunks", Value: json.Number("0")}, {Key: "bytes", Value: "0"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("unset fields: got %v, %v; want %v", got, err, want)
	}
}

func TestToolResolution(t *testing.T) {
	names := map[string]string{echoMethod: "api:echo"}
	g := newGate(nil, []Option{WithToolNames(names)})
	names[echoMethod] = "changed later"
	for _, tc := range []struct{ method, tool, action string }{
		{echoMethod, "api:echo", "Echo"},
		{"/tollgate.test.v1.ToolService/Fetch", "/tollgate.test.v1.ToolService/Fetch", "Fetch"},
	} {
		if tool, action := g.tool(newCallMeta(tc.method, Unary)); tool != tc.tool || action != tc.action {
			t.Errorf("%s: %s %s, want %s %s", tc.method, tool, action, tc.tool, tc.action)
		}
	}
	g = newGate(nil, []Option{WithToolMapper(func(m string) (string, string, bool) { return "api:" + m, "act", true })})
	if tool, action := g.tool(newCallMeta(echoMethod, Unary)); tool != "api:"+echoMethod || action != "act" {
		t.Errorf("mapper: %s %s", tool, action)
	}
}

func TestMatchers(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		m      Matcher
		method string
		want   bool
	}{
		{MatchMethods(echoMethod), echoMethod, true},
		{MatchMethods(echoMethod), chatMethod, false},
		{MatchHealthAndReflection(), "/grpc.health.v1.Health/Check", true},
		{MatchHealthAndReflection(), "/grpc.health.v1.Health/Watch", true},
		{MatchHealthAndReflection(), "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", true},
		{MatchHealthAndReflection(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", true},
		{MatchHealthAndReflection(), "/evil.grpc.health.v1.Health/Check", false},
		{MatchHealthAndReflection(), echoMethod, false},
		{MatchHealthAndReflection(), "/xds.service.orca.v3.OpenRcaService/StreamCoreMetrics", false},
		{MatchInfrastructure(), "/xds.service.orca.v3.OpenRcaService/StreamCoreMetrics", true},
		{MatchInfrastructure(), "/grpc.health.v1.Health/Check", true},
		{MatchInfrastructure(), "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", true},
		{MatchInfrastructure(), echoMethod, false},
	} {
		if got := tc.m.Match(ctx, newCallMeta(tc.method, Unary)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.method, got, tc.want)
		}
	}
}

func TestSplitMethod(t *testing.T) {
	for in, want := range map[string][2]string{
		"/pkg.Svc/Method": {"pkg.Svc", "Method"},
		"pkg.Svc/Method":  {"pkg.Svc", "Method"},
		"Method":          {"", "Method"},
		"":                {"", ""},
	} {
		if s, m := splitMethod(in); s != want[0] || m != want[1] {
			t.Errorf("%q: %q %q, want %q", in, s, m, want)
		}
	}
}

func TestConnectCanceledBeforeDecision(t *testing.T) {
	tw, _ := newTower(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := NewConnectInterceptor(tw).WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		t.Fatal("handler ran")
		return nil, nil
	})(ctx, connect.NewRequest(&testv1.EchoRequest{}))
	if e := inspect(t, err); e.code != codes.Canceled || e.info.GetReason() != string(tollgate.ReasonCanceled) {
		t.Fatalf("got %+v, want Canceled CANCELED", e)
	}
}

func TestConnectCallerHeadersAndTLS(t *testing.T) {
	state := &tls.ConnectionState{ServerName: "tools.example"}
	var got caller
	h := TLSHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = new(gate).connectCaller(r.Context(), r.Header)
	}))
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.TLS = state
	r.Header.Set("X-Tollgate-Intent-Action", "read")
	r.Header.Set("Authorization", "Bearer t")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got.creds.TLS != state {
		t.Error("the TLS state did not reach the credentials")
	}
	if got.intent.Action != "read" || got.creds.Header[HeaderAuthorization][0] != "Bearer t" {
		t.Errorf("caller = %+v", got)
	}
}
