package interceptor

import (
	"context"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

// fakeConn is a connect.StreamingHandlerConn fed from a list of messages.
type fakeConn struct {
	spec   connect.Spec
	header http.Header
	in     []proto.Message
	sent   int
	recv   int
}

func newFakeConn(tb testing.TB, procedure string, typ connect.StreamType, a tollgate.Agent, in ...proto.Message) *fakeConn {
	v, err := encodeAgent(a)
	if err != nil {
		tb.Fatal(err)
	}
	return &fakeConn{spec: connect.Spec{Procedure: procedure, StreamType: typ}, header: http.Header{"X-Tollgate-Agent": {v}}, in: in}
}

func (c *fakeConn) Spec() connect.Spec           { return c.spec }
func (c *fakeConn) Peer() connect.Peer           { return connect.Peer{} }
func (c *fakeConn) RequestHeader() http.Header   { return c.header }
func (c *fakeConn) ResponseHeader() http.Header  { return http.Header{} }
func (c *fakeConn) ResponseTrailer() http.Header { return http.Header{} }
func (c *fakeConn) Send(any) error               { c.sent++; return nil }

func (c *fakeConn) Receive(m any) error {
	c.recv++
	if len(c.in) == 0 {
		return io.EOF
	}
	proto.Merge(m.(proto.Message), c.in[0])
	c.in = c.in[1:]
	return nil
}

func TestConnectStreamingHandler(t *testing.T) {
	tw, _ := newTower(t)
	wrap := NewConnectInterceptor(tw).WrapStreamingHandler

	t.Run("a refusal ends a bidi stream even when the handler swallows it", func(t *testing.T) {
		conn := newFakeConn(t, chatMethod, connect.StreamTypeBidi, testAgent,
			&testv1.ChatMessage{Text: "fine"}, &testv1.ChatMessage{Text: "bad!"}, &testv1.ChatMessage{Text: "later"})
		var delivered []string
		var agent string
		err := wrap(func(ctx context.Context, c connect.StreamingHandlerConn) error {
			for range 4 {
				var m testv1.ChatMessage
				if c.Receive(&m) == nil {
					delivered = append(delivered, m.GetText())
					agent = agentID(ctx)
				}
			}
			if c.Send(&testv1.ChatMessage{}) == nil {
				t.Error("send after a refusal succeeded")
			}
			return nil
		})(t.Context(), conn)
		if e := inspect(t, err); e.code != codes.InvalidArgument || e.info.GetReason() != string(tollgate.ReasonConstraintViolated) {
			t.Fatalf("got %+v, want InvalidArgument CONSTRAINT_VIOLATED", e)
		}
		if len(delivered) != 1 || delivered[0] != "fine" || agent != "test-agent" {
			t.Errorf("delivered %q to %q, want [fine] to test-agent", delivered, agent)
		}
		if conn.recv != 2 || conn.sent != 0 {
			t.Errorf("transport: %d receives, %d sends; want 2 and 0", conn.recv, conn.sent)
		}
	})
	t.Run("a server stream without its request", func(t *testing.T) {
		conn := newFakeConn(t, watchMethod, connect.StreamTypeServer, testAgent)
		err := wrap(func(context.Context, connect.StreamingHandlerConn) error {
			t.Fatal("handler ran")
			return nil
		})(t.Context(), conn)
		if connect.CodeOf(err) != connect.CodeUnimplemented {
			t.Fatalf("err = %v, want Unimplemented", err)
		}
	})
	t.Run("a server stream of an unregistered method is refused", func(t *testing.T) {
		conn := newFakeConn(t, "/no.such.Service/Watch", connect.StreamTypeServer, testAgent, &testv1.WatchRequest{})
		err := NewConnectInterceptor(tw, quiet).WrapStreamingHandler(func(context.Context, connect.StreamingHandlerConn) error {
			t.Fatal("handler ran")
			return nil
		})(t.Context(), conn)
		if connect.CodeOf(err) != connect.CodeInternal {
			t.Fatalf("err = %v, want Internal", err)
		}
	})
}
