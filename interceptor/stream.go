package interceptor

import (
	"context"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/tower"
)

// messageGate enforces a client-streaming or bidi stream message by
// message, for both stacks. Every received message is its own tool call,
// with the stream's identity and intent; its "execution" is its delivery to
// the handler, so the audit log has one record per message and a message
// the tower refuses is never delivered. What the handler then does with the
// message happens outside the tower: its errors do not count for the
// circuit breaker and are not in the audit record.
//
// A refusal is final: the refused message is cleared, every later receive
// and send fails with the refusal, and the front door ends the stream with
// it whatever the handler returns.
//
// A stream must not do anything unchecked, including when the client sends
// no message at all. So the first send before any message was allowed, and
// the end of a stream that brought no message, are gated as one call with
// empty params.
//
// The calls of a stream share a tower.Stream: the stream presents its
// credentials and approval id once, in its headers, so later messages are
// bound to the stream's verification (a single-use token is spent once per
// stream) and only the first ASK message redeems the approval id.
//
// Receives are sequential (both stacks forbid concurrent receives), but a
// send may run concurrently with a receive; mu guards the shared state, and
// checking makes the stream's calls reach the tower one at a time, so the
// first call's verification is the one later calls are bound to.
type messageGate struct {
	g      *gate
	c      caller
	meta   CallMeta
	refuse func(*tollgate.Error) error // the stack's error for a refusal
	base   context.Context             // the stream's context
	ctx    *streamContext

	checking sync.Mutex // held while a call of the stream is in the tower

	mu       sync.Mutex
	verified context.Context // base with the verified agent, once a call was allowed
	refusal  error           // the first refusal, final
}

func newMessageGate(g *gate, base context.Context, c caller, meta CallMeta, refuse func(*tollgate.Error) error) *messageGate {
	c.stream = new(tower.Stream)
	m := &messageGate{g: g, c: c, meta: meta, refuse: refuse, base: base}
	m.ctx = &streamContext{Context: base, m: m}
	return m
}

// context is the context the handler gets: the stream's, carrying the
// verified agent from the moment a call of the stream was allowed.
func (m *messageGate) context() context.Context { return m.ctx }

// streamContext is the stream's context whose values come from the
// verified context once there is one. The handler receives its context
// before any message is checked, so the agent can only be added this way.
type streamContext struct {
	context.Context
	m *messageGate
}

func (c *streamContext) Value(key any) any {
	c.m.mu.Lock()
	v := c.m.verified
	c.m.mu.Unlock()
	if v != nil {
		return v.Value(key)
	}
	return c.Context.Value(key)
}

// refused returns the refusal that ended the stream, if any.
func (m *messageGate) refused() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refusal
}

// received gates msg, which the transport has just filled in.
func (m *messageGate) received(msg any) error {
	if err := m.check(msg); err != nil {
		if pm, ok := msg.(proto.Message); ok {
			proto.Reset(pm) // a refused message is never delivered
		}
		return err
	}
	return nil
}

// ended gates the end of a stream that brought no message; it returns the
// refusal, or nil to let the end of the stream through.
func (m *messageGate) ended() error { return m.open() }

// sending gates a send: refused after a refusal, and gated as the open of
// the stream when no message has been allowed yet.
func (m *messageGate) sending() error { return m.open() }

func (m *messageGate) open() error {
	m.mu.Lock()
	refusal, allowed := m.refusal, m.verified != nil
	m.mu.Unlock()
	if refusal != nil || allowed {
		return refusal
	}
	return m.check(&emptypb.Empty{})
}

// check runs one message through the tower.
func (m *messageGate) check(msg any) error {
	m.checking.Lock()
	defer m.checking.Unlock()
	if err := m.refused(); err != nil {
		return err
	}
	_, refusal, _ := m.g.run(m.base, &m.c, m.meta, msg, func(ctx context.Context) (any, error) {
		m.allowed(ctx)
		return nil, nil
	})
	if refusal == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refusal == nil {
		m.refusal = m.refuse(refusal)
	}
	return m.refusal
}

// allowed records that a call was allowed and keeps the verified agent for
// the handler's context.
func (m *messageGate) allowed(execCtx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.verified == nil {
		m.verified = m.base
		if a, ok := identity.FromContext(execCtx); ok {
			m.verified = identity.NewContext(m.base, a)
		}
	}
}
