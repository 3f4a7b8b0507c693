package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
)

// desk is the help desk: an in-memory ticket store behind the
// TicketService. Nothing here knows about Tollgate; the interceptors gate
// every call before it arrives. desk is safe for concurrent use.
//
// The unary methods serve both stacks as they are (connect-go's "simple"
// signatures are grpc-go's); grpcDesk and connectDesk adapt the two
// streaming methods.
type desk struct {
	mu      sync.Mutex
	tickets map[string]*ticketsv1.Ticket
}

func newDesk() *desk {
	d := &desk{tickets: map[string]*ticketsv1.Ticket{}}
	for _, t := range []*ticketsv1.Ticket{
		{TicketId: "T-1001", Subject: "Printer on fire", Customer: "acme", Queue: "support"},
		{TicketId: "T-1002", Subject: "Invoice sent twice", Customer: "globex", Queue: "billing"},
		{TicketId: "T-1003", Subject: "Password reset", Customer: "initech", Queue: "support"},
		{TicketId: "T-2002", Subject: "Outage at headquarters", Customer: "umbrella", Queue: "support", Vip: true},
		{TicketId: "T-1004", Subject: "You have won a cruise", Customer: "spam", Queue: "billing"},
	} {
		t.Status = "open"
		d.tickets[t.TicketId] = t
	}
	return d
}

// fileStore is where attachments live. Its archive is down, so every fetch
// from archivePrefix fails: the demo's way to trip the circuit breaker.
const (
	fileStore     = "https://files.tickets.example/"
	archivePrefix = fileStore + "archive/"
)

func (d *desk) GetTicket(_ context.Context, req *ticketsv1.GetTicketRequest) (*ticketsv1.Ticket, error) {
	return d.update(req.GetTicketId(), func(*ticketsv1.Ticket) {})
}

func (d *desk) CloseTicket(_ context.Context, req *ticketsv1.CloseTicketRequest) (*ticketsv1.Ticket, error) {
	return d.update(req.GetTicketId(), func(t *ticketsv1.Ticket) { t.Status = "solved" })
}

func (d *desk) AssignTicket(_ context.Context, req *ticketsv1.AssignTicketRequest) (*ticketsv1.Ticket, error) {
	return d.update(req.GetTicketId(), func(t *ticketsv1.Ticket) { t.Assignee = req.GetAssignee() })
}

func (d *desk) DeleteTicket(_ context.Context, req *ticketsv1.DeleteTicketRequest) (*ticketsv1.DeleteTicketResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.tickets[req.GetTicketId()]; !ok {
		return nil, notFound(req.GetTicketId())
	}
	delete(d.tickets, req.GetTicketId())
	return &ticketsv1.DeleteTicketResponse{}, nil
}

// FetchAttachment pretends to download a file. A real one would dial
// through a net.Dialer whose Control is the network guard's DialControl, so
// that a host name resolving to a private address is refused too.
func (d *desk) FetchAttachment(_ context.Context, req *ticketsv1.FetchAttachmentRequest) (*ticketsv1.Attachment, error) {
	if strings.HasPrefix(req.GetUrl(), archivePrefix) {
		return nil, rpcError(codes.Unavailable, "the attachment archive is unavailable")
	}
	return &ticketsv1.Attachment{Url: req.GetUrl(), ContentType: "text/plain", Data: []byte("It is not on fire any more.\n")}, nil
}

// update applies change to a ticket and returns a copy.
func (d *desk) update(id string, change func(*ticketsv1.Ticket)) (*ticketsv1.Ticket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tickets[id]
	if !ok {
		return nil, notFound(id)
	}
	change(t)
	return proto.CloneOf(t), nil
}

// watch sends the tickets of a queue, in id order.
func (d *desk) watch(req *ticketsv1.WatchTicketsRequest, send func(*ticketsv1.Ticket) error) error {
	d.mu.Lock()
	var list []*ticketsv1.Ticket
	for _, t := range d.tickets {
		if t.GetQueue() == req.GetQueue() {
			list = append(list, proto.CloneOf(t))
		}
	}
	d.mu.Unlock()
	slices.SortFunc(list, func(a, b *ticketsv1.Ticket) int { return strings.Compare(a.GetTicketId(), b.GetTicketId()) })
	for _, t := range list {
		if err := send(t); err != nil {
			return err
		}
	}
	return nil
}

// bulkUpdate sets the status of each ticket it receives and answers with
// the ticket. A request Tollgate refuses never arrives: recv returns the
// refusal, which ends the stream.
func (d *desk) bulkUpdate(recv func() (*ticketsv1.BulkUpdateRequest, error), send func(*ticketsv1.Ticket) error) error {
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		t, err := d.update(req.GetTicketId(), func(t *ticketsv1.Ticket) { t.Status = req.GetStatus() })
		if err != nil {
			return err
		}
		if err := send(t); err != nil {
			return err
		}
	}
}

// grpcDesk is the desk as a grpc-go service.
type grpcDesk struct{ *desk }

func (d grpcDesk) WatchTickets(req *ticketsv1.WatchTicketsRequest, s grpc.ServerStreamingServer[ticketsv1.Ticket]) error {
	return d.watch(req, s.Send)
}

func (d grpcDesk) BulkUpdate(s grpc.BidiStreamingServer[ticketsv1.BulkUpdateRequest, ticketsv1.Ticket]) error {
	return d.bulkUpdate(s.Recv, s.Send)
}

// connectDesk is the desk as a connect-go service.
type connectDesk struct{ *desk }

func (d connectDesk) WatchTickets(_ context.Context, req *ticketsv1.WatchTicketsRequest, s *connect.ServerStream[ticketsv1.Ticket]) error {
	return d.watch(req, s.Send)
}

func (d connectDesk) BulkUpdate(_ context.Context, s *connect.BidiStream[ticketsv1.BulkUpdateRequest, ticketsv1.Ticket]) error {
	return d.bulkUpdate(s.Receive, s.Send)
}

func notFound(id string) error {
	return rpcError(codes.NotFound, "no ticket "+id)
}

// rpcError returns a handler error both stacks understand: connect-go finds
// the *connect.Error it wraps, grpc-go asks it for its GRPCStatus. The
// codes are the same numbers in both.
func rpcError(code codes.Code, msg string) error {
	return &handlerError{connect.NewError(connect.Code(code), errors.New(msg))}
}

type handlerError struct{ err *connect.Error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }
func (e *handlerError) GRPCStatus() *status.Status {
	return status.New(codes.Code(e.err.Code()), e.err.Message())
}
