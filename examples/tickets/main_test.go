package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/policytest"
	"github.com/tollgate-go/tollgate/registry"
)

// TestDemo runs the narrated demo in-process, on loopback, and checks every
// call against this list, written independently of the script's own
// expectations so that a wrong expectation there cannot pass unnoticed.
func TestDemo(t *testing.T) {
	want := []struct {
		call   string
		code   codes.Code
		reason tollgate.Reason
		note   string // "" when the call returns nothing the test checks
	}{
		{"GetTicket T-1001", codes.OK, "", "Printer on fire"},
		{"GetTicket T-1002", codes.OK, "", "Invoice sent twice"},
		{"WatchTickets support (server stream)", codes.OK, "", "3 tickets"},
		{"AssignTicket T-1001 (not in manifest)", codes.PermissionDenied, tollgate.ReasonPolicyDenied, ""},
		{"CloseTicket T-1001", codes.OK, "", "solved"},
		{"CloseTicket T-2002 (VIP customer)", codes.PermissionDenied, tollgate.ReasonApprovalDenied, ""},
		{"DeleteTicket T-1004", codes.FailedPrecondition, tollgate.ReasonApprovalPending, "approvalId in ErrorInfo"},
		{"Approve it with support-bot's own token", codes.Unauthenticated, "", ""},
		{"Approve it as alice (admin role)", codes.OK, "", "by alice@example.com"},
		{"DeleteTicket T-1004, with the approval id", codes.OK, "", "deleted"},
		{"DeleteTicket T-1004, same approval id again", codes.PermissionDenied, tollgate.ReasonApprovalDenied, ""},
		{`CloseTicket "T-1 OR 1=1"`, codes.InvalidArgument, tollgate.ReasonParamsInvalid, ""},
		{"GetTicket T-1003 (3rd this minute)", codes.OK, "", "Password reset"},
		{"GetTicket T-2002 (4th this minute)", codes.ResourceExhausted, tollgate.ReasonRateLimited, ""},
		{"FetchAttachment http://169.254.169.254/latest/meta-data", codes.PermissionDenied, tollgate.ReasonNetworkBlocked, ""},
		{"FetchAttachment …/T-1001/log.txt", codes.OK, "", "28 bytes"},
		{"FetchAttachment …/archive/1.pdf", codes.Unavailable, "", ""},
		{"FetchAttachment …/archive/2.pdf", codes.Unavailable, "", ""},
		{"FetchAttachment …/archive/3.pdf", codes.Unavailable, "", ""},
		{"FetchAttachment …/T-1001/log.txt", codes.Unavailable, tollgate.ReasonCircuitOpen, ""},
		{"BulkUpdate pending, deleted, solved (bidi)", codes.InvalidArgument, tollgate.ReasonConstraintViolated, "1 of 3 updated"},
		{"GetTicket T-1001, token from an unknown key", codes.Unauthenticated, tollgate.ReasonIdentityInvalid, ""},
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	var out bytes.Buffer
	rep, err := runDemo(ctx, &out, dir, filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatalf("runDemo: %v\n%s", err, out.String())
	}
	if len(rep.rows) != len(want) {
		t.Fatalf("%d calls, want %d\n%s", len(rep.rows), len(want), out.String())
	}
	for i, w := range want {
		r := rep.rows[i]
		if r.call != w.call || r.got.code != w.code || r.got.reason != string(w.reason) || (w.note != "" && r.note != w.note) {
			t.Errorf("call %d: got %q %v %q %q, want %q %v %q %q", i+1, r.call, r.got.code, r.got.reason, r.note, w.call, w.code, w.reason, w.note)
		}
	}

	// The details the error contract promises reach both clients.
	checkDetails := func(n int, retry bool, field string) {
		t.Helper()
		r := rep.rows[n-1]
		if got := r.got.retryAfter > 0; got != retry {
			t.Errorf("call %d (%s): RetryInfo present = %v, want %v", n, r.client, got, retry)
		}
		if field != "" && (len(r.got.violations) == 0 || r.got.violations[0].GetField() != field) {
			t.Errorf("call %d (%s): violations %v, want field %q", n, r.client, r.got.violations, field)
		}
	}
	checkDetails(12, false, "ticket_id") // grpc-go
	checkDetails(14, true, "")           // grpc-go
	checkDetails(15, false, "url")       // connect
	checkDetails(20, true, "")           // grpc-go
	checkDetails(21, false, "status")    // grpc-go, bidi

	// Every call is audited, each bidi message separately.
	if rep.auditLines < len(want) {
		t.Errorf("audit log has %d records for %d calls", rep.auditLines, len(want))
	}
	if !strings.Contains(out.String(), "hash chain verified") {
		t.Errorf("output does not report the audit check:\n%s", out.String())
	}

	// The README shows the output as it is.
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```\n"+out.String()+"```\n") {
		t.Errorf("README.md does not show the demo's output; update it to:\n%s", out.String())
	}
}

// TestServe checks what `--serve` offers besides the tools: the health
// service passes through ungated, Connect's JSON over HTTP/1.1 (curl) is
// gated like the rest, the admin API is on its own listener only and
// refuses callers without an admin token, and cancelling the context stops
// both servers with an intact audit chain.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.jsonl")
	_, keys, err := newAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(dir, auditPath, keys, keys)
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
	addr, adminAddr := ls[0].Addr().String(), ls[1].Addr().String()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health check: %v, %v; want SERVING", hc.GetStatus(), err)
	}

	// No agent header: Connect answers 401 with code unauthenticated.
	resp, err := http.Post("http://"+addr+"/tickets.v1.TicketService/GetTicket", "application/json", strings.NewReader(`{"ticket_id":"T-1001"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"unauthenticated"`) {
		t.Errorf("Connect JSON call without identity: %d %s", resp.StatusCode, body)
	}

	// A request over the 4 MiB read limit is refused by grpc-go or
	// connect-go before the interceptors run, and still audited.
	huge := strings.Repeat("x", 5<<20)
	_, err = ticketsv1.NewTicketServiceClient(conn).GetTicket(context.Background(), &ticketsv1.GetTicketRequest{TicketId: huge})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized gRPC call: %v, want ResourceExhausted", err)
	}
	resp, err = http.Post("http://"+addr+"/tickets.v1.TicketService/GetTicket", "application/json", strings.NewReader(`{"ticket_id":"`+huge+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("oversized Connect call: HTTP %d, want 429", resp.StatusCode)
	}

	// The admin API answers on its own port, and only there.
	const listPending = "/tollgate.admin.v1.ApprovalService/ListPending"
	for _, tc := range []struct {
		addr string
		want int
	}{{adminAddr, http.StatusUnauthorized}, {addr, http.StatusNotFound}} {
		resp, err := http.Post("http://"+tc.addr+listPending, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s on %s: HTTP %d, want %d", listPending, tc.addr, resp.StatusCode, tc.want)
		}
	}

	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	lines, err := audit.VerifyFile(auditPath)
	if err != nil || lines != 3 {
		t.Errorf("audit: %d records, %v; want the three refused calls", lines, err)
	}
}

// TestScenarios runs test_scenarios.yaml as `tollgate test-policy --manifest
// --strict` does, and without the manifest as Tollgate 1.4.0 would.
func TestScenarios(t *testing.T) {
	p, err := policy.Load("policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := registry.Load("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	list, err := policytest.LoadScenarios("test_scenarios.yaml", policytest.WithStrict())
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]policytest.RunOption{
		"with manifest":    {policytest.WithManifest(m)},
		"without manifest": nil,
	} {
		res := policytest.Run(p, list, opts...)
		if len(list) == 0 || res.Passed != len(list) {
			t.Errorf("%s: %d/%d passed%s", name, res.Passed, res.Total(), res.Summary())
		}
	}
}

// TestNewGatewayErrors checks that the gateway does not start half
// configured.
func TestNewGatewayErrors(t *testing.T) {
	dir := t.TempDir()
	_, keys, err := newAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newGateway(filepath.Join(dir, "missing"), filepath.Join(dir, "audit.jsonl"), keys, keys); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config dir missing: %v, want a not-exist error", err)
	}
	// The audit log's path is a directory: the gateway refuses to start
	// rather than serve unaudited.
	if _, err := newGateway(dir, dir, keys, keys); err == nil {
		t.Error("audit path is a directory: no error")
	}
	// No agent keys: no gateway that would trust any caller.
	if _, err := newGateway(dir, filepath.Join(dir, "audit.jsonl"), nil, keys); err == nil {
		t.Error("no agent keys: no error")
	}
	// No admin keys: no admin API that would trust any caller.
	if _, err := newGateway(dir, filepath.Join(dir, "audit.jsonl"), keys, nil); err == nil {
		t.Error("no admin keys: no error")
	}
	if _, err := serveKeys(filepath.Join(dir, "missing.jwks.json"), "support-bot", "TOKEN", newSigner); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing JWKS: %v, want a not-exist error", err)
	}
}

// TestPrintTableMarksSurprises checks that a call that did not end as
// expected is flagged in the table, with what was expected.
func TestPrintTableMarksSurprises(t *testing.T) {
	var out bytes.Buffer
	printTable(&out, []row{
		{client: "grpc-go", call: "GetTicket T-1", decision: "ALLOW", want: codes.OK, got: outcome{code: codes.OK}, note: "fine"},
		{client: "connect", call: "DeleteTicket T-1", decision: "ASK → denied", want: codes.PermissionDenied,
			wantReason: tollgate.ReasonApprovalDenied, got: outcome{code: codes.OK}},
	})
	lines := strings.Split(out.String(), "\n")
	if strings.Contains(lines[1], "✗") {
		t.Errorf("expected call marked: %q", lines[1])
	}
	if !strings.Contains(lines[2], "✗ expected PermissionDenied APPROVAL_DENIED") {
		t.Errorf("unexpected call not marked: %q", lines[2])
	}
}
