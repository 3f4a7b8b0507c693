package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/audit"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/interceptor"
)

// row is one call of the demo: what it is, what Tollgate should make of
// it, and what the client got.
type row struct {
	client, call string
	decision     string // what the pipeline decides, as the script narrates it
	want         codes.Code
	wantReason   tollgate.Reason // ErrorInfo reason of a refusal; "" for OK
	got          outcome
	note         string // what the call returned, for the table
}

func (r row) ok() bool {
	return r.got.code == r.want && r.got.reason == string(r.wantReason)
}

// report is what a demo run found.
type report struct {
	rows       []row
	auditLines int
}

// errUnexpected is returned when a call did not end as the script expects.
var errUnexpected = errors.New("a call did not end as expected")

// runDemo starts the gateway on a free loopback port, drives the script
// against it with a grpc-go and a connect-go client, prints the table to w,
// stops the gateway and verifies the audit chain. The configuration copy
// goes to dir, the audit log to auditPath.
func runDemo(ctx context.Context, w io.Writer, dir, auditPath string) (report, error) {
	key, keys, err := newAgentKey()
	if err != nil {
		return report{}, err
	}
	adminKey, adminKeys, err := newAgentKey()
	if err != nil {
		return report{}, err
	}
	g, err := newGateway(dir, auditPath, keys, adminKeys)
	if err != nil {
		return report{}, err
	}
	var listeners [2]net.Listener // tools, admin API
	for i := range listeners {
		if listeners[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			for _, l := range listeners[:i] {
				l.Close()
			}
			return report{}, errors.Join(err, g.audit.Close())
		}
	}
	ctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, listeners[0], listeners[1]) }()

	fmt.Fprintln(w, "Tollgate tickets example: gRPC and Connect on one port, one pipeline; the admin API on another.")
	fmt.Fprintln(w)
	rows, err := script(ctx, listeners[0].Addr().String(), listeners[1].Addr().String(), key, adminKey)
	stop()
	err = errors.Join(err, <-served)
	if err != nil {
		return report{rows: rows}, err
	}
	printTable(w, rows)

	rep := report{rows: rows}
	if rep.auditLines, err = audit.VerifyFile(auditPath); err != nil {
		return rep, fmt.Errorf("audit chain: %w", err)
	}
	fmt.Fprintf(w, "\naudit: %d records, hash chain verified\n", rep.auditLines)
	failed := 0
	for _, r := range rows {
		if !r.ok() {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(w, "%d of %d calls did not end as expected (✗)\n", failed, len(rows))
		return rep, errUnexpected
	}
	fmt.Fprintf(w, "all %d calls ended as expected\n", len(rows))
	return rep, nil
}

// script makes the demo's calls as support-bot, whose tokens key signs,
// and as alice, whose admin tokens adminKey signs, in order, and returns
// their rows. The tools are served at addr, the admin API at adminAddr.
func script(ctx context.Context, addr, adminAddr string, key, adminKey ed25519.PrivateKey) ([]row, error) {
	signer, err := newSigner(key, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	aliceSigner, err := newAdminSigner(adminKey, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	hc := newH2CClient()
	defer hc.CloseIdleConnections()
	g, conn, err := newGRPCClient(addr, signer.Token)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := newConnectClient(hc, addr, signer.Token)

	var rows []row
	call := func(client, what, decision string, want codes.Code, reason tollgate.Reason, run func() (string, error)) {
		note, err := run()
		rows = append(rows, row{client: client, call: what, decision: decision, want: want, wantReason: reason, got: outcomeOf(err), note: note})
	}
	const gr, cn, adm = "grpc-go", "connect", "admin"
	get := func(client unaryClient, id string) func() (string, error) {
		return func() (string, error) {
			t, err := client.GetTicket(ctx, &ticketsv1.GetTicketRequest{TicketId: id})
			return t.GetSubject(), err
		}
	}
	closeTicket := func(client unaryClient, id string) func() (string, error) {
		return func() (string, error) {
			t, err := client.CloseTicket(ctx, &ticketsv1.CloseTicketRequest{TicketId: id, Resolution: "done"})
			return t.GetStatus(), err
		}
	}
	fetch := func(path string) func() (string, error) { // a file of the file store
		return func() (string, error) {
			a, err := g.FetchAttachment(ctx, &ticketsv1.FetchAttachmentRequest{TicketId: "T-1001", Url: fileStore + path})
			return bytesNote(a.GetData()), err
		}
	}
	gu := grpcUnary{g}

	// Reads are allowed, over either stack; streams are gated when they open.
	call(gr, "GetTicket T-1001", "ALLOW", codes.OK, "", get(gu, "T-1001"))
	call(cn, "GetTicket T-1002", "ALLOW", codes.OK, "", get(c, "T-1002"))
	call(cn, "WatchTickets support (server stream)", "ALLOW", codes.OK, "", func() (string, error) {
		stream, err := c.WatchTickets(ctx, &ticketsv1.WatchTicketsRequest{Queue: "support"})
		if err != nil {
			return "", err
		}
		defer stream.Close()
		n := 0
		for stream.Receive() {
			n++
		}
		return fmt.Sprintf("%d tickets", n), stream.Err()
	})

	// A method the manifest does not list is denied.
	call(gr, "AssignTicket T-1001 (not in manifest)", "DENY", codes.PermissionDenied, tollgate.ReasonPolicyDenied, func() (string, error) {
		_, err := g.AssignTicket(ctx, &ticketsv1.AssignTicketRequest{TicketId: "T-1001", Assignee: "support-bot"})
		return "", err
	})

	// Writes are ASK: the callback approver decides while the call waits.
	call(gr, "CloseTicket T-1001", "ASK → approved", codes.OK, "", closeTicket(gu, "T-1001"))
	call(cn, "CloseTicket T-2002 (VIP customer)", "ASK → denied", codes.PermissionDenied, tollgate.ReasonApprovalDenied, closeTicket(c, "T-2002"))

	// Deletes are ASK with ask_mode: deferred. The call returns at once
	// with an approval id; a human decides through the admin API, on its
	// own port; the agent retries with the id, and the approved call runs
	// exactly once.
	var approvalID string
	deleteSpam := func(ctx context.Context, client unaryClient) func() (string, error) {
		return func() (string, error) {
			_, err := client.DeleteTicket(ctx, &ticketsv1.DeleteTicketRequest{TicketId: "T-1004"})
			if err != nil {
				return "", err
			}
			return "deleted", nil
		}
	}
	call(cn, "DeleteTicket T-1004", "ASK → deferred", codes.FailedPrecondition, tollgate.ReasonApprovalPending, func() (string, error) {
		note, err := deleteSpam(ctx, c)()
		if approvalID = outcomeOf(err).approvalID; approvalID != "" {
			note = "approvalId in ErrorInfo"
		}
		return note, err
	})
	approve := func(tokens tokenSource) func() (string, error) {
		return func() (string, error) {
			resp, err := newAdminClient(hc, adminAddr, tokens).Approve(ctx, connect.NewRequest(&adminv1.ApproveRequest{Id: approvalID, Note: "spam"}))
			if err != nil {
				return "", err
			}
			return "by " + resp.Msg.GetApproval().GetDecidedBy(), nil
		}
	}
	call(adm, "Approve it with support-bot's own token", "not an admin", codes.Unauthenticated, "", approve(signer.Token))
	call(adm, "Approve it as alice (admin role)", "approved", codes.OK, "", approve(aliceSigner.Token))
	retry := interceptor.ContextWithApprovalID(ctx, approvalID)
	call(cn, "DeleteTicket T-1004, with the approval id", "ASK → approved", codes.OK, "", deleteSpam(retry, c))
	call(gr, "DeleteTicket T-1004, same approval id again", "ASK → used up", codes.PermissionDenied, tollgate.ReasonApprovalDenied, deleteSpam(retry, gu))

	// A malformed call is refused before anyone is asked.
	call(gr, `CloseTicket "T-1 OR 1=1"`, "DENY", codes.InvalidArgument, tollgate.ReasonParamsInvalid, closeTicket(gu, "T-1 OR 1=1"))

	// Three GetTicket calls a minute per agent, whichever stack they use.
	call(cn, "GetTicket T-1003 (3rd this minute)", "ALLOW", codes.OK, "", get(c, "T-1003"))
	call(gr, "GetTicket T-2002 (4th this minute)", "DENY", codes.ResourceExhausted, tollgate.ReasonRateLimited, get(gu, "T-2002"))

	// URLs must point at the file store; the cloud metadata address never passes.
	call(cn, "FetchAttachment http://169.254.169.254/latest/meta-data", "DENY", codes.PermissionDenied, tollgate.ReasonNetworkBlocked, func() (string, error) {
		_, err := c.FetchAttachment(ctx, &ticketsv1.FetchAttachmentRequest{TicketId: "T-1001", Url: "http://169.254.169.254/latest/meta-data"})
		return "", err
	})
	call(gr, "FetchAttachment …/T-1001/log.txt", "ALLOW", codes.OK, "", fetch("T-1001/log.txt"))

	// The archive is down: its handler fails, and three failures in a row
	// open the tool's circuit, which then refuses even good calls.
	for i := 1; i <= 3; i++ {
		path := fmt.Sprintf("archive/%d.pdf", i)
		call(gr, "FetchAttachment …/"+path, "ALLOW, handler fails", codes.Unavailable, "", fetch(path))
	}
	call(gr, "FetchAttachment …/T-1001/log.txt", "DENY", codes.Unavailable, tollgate.ReasonCircuitOpen, fetch("T-1001/log.txt"))

	// Every message of a bidi stream is its own tool call: the second one
	// is refused, which ends the stream; the third is never processed.
	call(gr, "BulkUpdate pending, deleted, solved (bidi)", "ALLOW, then DENY", codes.InvalidArgument, tollgate.ReasonConstraintViolated, func() (string, error) {
		return bulkUpdate(ctx, g, []*ticketsv1.BulkUpdateRequest{
			{TicketId: "T-1002", Status: "pending"},
			{TicketId: "T-2002", Status: "deleted"},
			{TicketId: "T-1003", Status: "solved"},
		})
	})

	// A token signed by a key the server does not hold is refused.
	other, _, err := newAgentKey()
	if err != nil {
		return rows, err
	}
	forger, err := newSigner(other, 5*time.Minute)
	if err != nil {
		return rows, err
	}
	call(cn, "GetTicket T-1001, token from an unknown key", "DENY", codes.Unauthenticated, tollgate.ReasonIdentityInvalid, get(newConnectClient(hc, addr, forger.Token), "T-1001"))
	return rows, nil
}

// bulkUpdate sends updates on one BulkUpdate stream and counts the replies.
func bulkUpdate(ctx context.Context, g ticketsv1.TicketServiceClient, updates []*ticketsv1.BulkUpdateRequest) (string, error) {
	stream, err := g.BulkUpdate(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range updates {
		if stream.Send(u) != nil {
			break // the stream ended; Recv says why
		}
	}
	if err := stream.CloseSend(); err != nil {
		return "", err
	}
	replies := 0
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
		replies++
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return fmt.Sprintf("%d of %d updated", replies, len(updates)), err
}

// printTable prints one line per call: the decision, the status code the
// client got and the details it carried, then the BadRequest field
// violations. A call that did not end as expected is marked, with what was
// expected.
func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tclient\tcall\tdecision\tstatus\tdetails")
	for i, r := range rows {
		details := r.details()
		if !r.ok() {
			details += fmt.Sprintf("  ✗ expected %s %s", r.want, r.wantReason)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, r.client, r.call, r.decision, r.got.code, details)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nBadRequest field violations:")
	for i, r := range rows {
		for _, v := range r.got.violations {
			fmt.Fprintf(w, "%3d  %s\n", i+1, v.GetDescription())
		}
	}
}

// details renders what the client learnt beyond the status code: for a
// refusal, Tollgate's reason code, the fields at fault and when to retry;
// for a handler's error, its message.
func (r row) details() string {
	var parts []string
	switch {
	case r.got.reason != "":
		parts = append(parts, r.got.reason)
	case r.got.code != codes.OK:
		parts = append(parts, r.got.message)
	}
	if len(r.got.violations) > 0 {
		fields := make([]string, 0, len(r.got.violations))
		for _, v := range r.got.violations {
			if !slices.Contains(fields, v.GetField()) {
				fields = append(fields, v.GetField())
			}
		}
		parts = append(parts, "field "+strings.Join(fields, ", "))
	}
	if r.got.retryAfter > 0 {
		parts = append(parts, fmt.Sprintf("retry in %.0fs", math.Ceil(r.got.retryAfter.Seconds())))
	}
	if r.note != "" {
		parts = append(parts, r.note)
	}
	return strings.Join(parts, "; ")
}

func bytesNote(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return fmt.Sprintf("%d bytes", len(b))
}
