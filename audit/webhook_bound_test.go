package audit

import (
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// A webhook body is bounded like a file record: a 1 MiB param is sent as
// its prefix, length and hash.
func TestWebhookBoundsTheBody(t *testing.T) {
	rcv := newReceiver(t)
	w, err := NewWebhook(rcv.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	e := blocked(1)
	e.ToolRequest.Params = tollgate.Params{{Key: "blob", Value: strings.Repeat("x", 1<<20)}}
	w.Emit(ctx, e)
	closeWebhook(t, w)
	bodies, _ := rcv.requests()
	if len(bodies) != 1 || len(bodies[0]) > 2*DefaultMaxValueSize || !strings.Contains(string(bodies[0]), "[TRUNCATED: 1048576 bytes, sha256:") {
		t.Errorf("body not bounded: %d bodies, %d bytes", len(bodies), len(bodies[0]))
	}
}
