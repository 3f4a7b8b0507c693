package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/metadata"

	"github.com/tollgate-go/tollgate/audit"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/tower"
)

// injecting sends the request context's trace as W3C headers, as an
// instrumented agent would.
type injecting struct{ base http.RoundTripper }

func (t injecting) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	propagator.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
	return t.base.RoundTrip(r)
}

// With tracing, a call over gRPC and one over Connect each give an RPC
// server span (otelgrpc, otelconnect) under the agent's span, and the
// gate's span under that; the call's audit records carry the gate span's
// ids.
func TestTracedCalls(t *testing.T) {
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.jsonl")
	key, keys, err := newAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	files, err := writeConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := memoryStores()
	if err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	g, err := newGatewayFiles(files, st, auditPath, keys, keys, tp)
	if err != nil {
		t.Fatal(err)
	}
	var ls [2]net.Listener
	for i := range ls {
		if ls[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, ls[0], ls[1]) }()
	addr := ls[0].Addr().String()

	bot, err := newSigner(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	agentCtx, agentSpan := sdktrace.NewTracerProvider().Tracer("agent").Start(context.Background(), "agent.turn")
	grpcDesk, conn, err := newGRPCClient(addr, bot.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	md := propagation.MapCarrier{}
	propagator.Inject(agentCtx, md)
	if _, err := grpcDesk.GetTicket(metadata.NewOutgoingContext(agentCtx, metadata.New(md)), &ticketsv1.GetTicketRequest{TicketId: "T-1001"}); err != nil {
		t.Fatalf("gRPC call: %v", err)
	}
	hc := newH2CClient()
	hc.Transport = injecting{hc.Transport}
	if _, err := newConnectClient(hc, addr, bot.Token).GetTicket(agentCtx, &ticketsv1.GetTicketRequest{TicketId: "T-1002"}); err != nil {
		t.Fatalf("Connect call: %v", err)
	}
	agentSpan.End()
	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}

	ended := spans.Ended()
	byID := map[string]sdktrace.ReadOnlySpan{}
	var gates []sdktrace.ReadOnlySpan
	for _, s := range ended {
		byID[s.SpanContext().SpanID().String()] = s
		if s.Name() == tower.SpanName {
			gates = append(gates, s)
		}
	}
	if len(gates) != 2 {
		t.Fatalf("%d gate spans of %d, want 2", len(gates), len(ended))
	}
	want := agentSpan.SpanContext()
	gateIDs := map[string]bool{}
	for _, s := range gates {
		rpc, ok := byID[s.Parent().SpanID().String()]
		if !ok {
			t.Errorf("gate span's parent %v is no RPC server span", s.Parent().SpanID())
			continue
		}
		if rpc.Parent().SpanID() != want.SpanID() || s.SpanContext().TraceID() != want.TraceID() {
			t.Errorf("RPC span %q has parent %v, want the agent's %v (trace %v)", rpc.Name(), rpc.Parent().SpanID(), want.SpanID(), want.TraceID())
		}
		gateIDs[s.SpanContext().SpanID().String()] = true
	}

	f, err := os.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	err = audit.Read(f, func(r *audit.Record) error {
		if r.Event.Kind != "" {
			return nil
		}
		n++
		if r.Event.TraceID != want.TraceID().String() || !gateIDs[r.Event.SpanID] {
			t.Errorf("%s record of %s has trace %q span %q", r.Event.Outcome, r.Event.ToolRequest.Tool, r.Event.TraceID, r.Event.SpanID)
		}
		return nil
	})
	if err != nil || n != 4 {
		t.Errorf("audit: %d call records, %v; want 4", n, err)
	}
}
