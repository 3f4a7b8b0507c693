package interceptor

import (
	"context"
	"errors"

	"github.com/tollgate-go/tollgate"
)

// ClientOption configures the client side: UnaryClientInterceptor,
// StreamClientInterceptor and NewConnectClientInterceptor.
type ClientOption func(*clientOptions)

type clientOptions struct {
	agent    string // HeaderAgent's value, "" for none
	agentErr error
	intent   *tollgate.Intent
	token    func(context.Context) (string, error)
}

func newClientOptions(opts []ClientOption) clientOptions {
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithAgent sends a as the legacy agent context (HeaderAgent) on every
// call. Sign it first (Tollgate's HMAC goes in a.Metadata["_signature"]) if
// the server verifies legacy identities. If a cannot be encoded, every call
// fails before it is sent.
func WithAgent(a tollgate.Agent) ClientOption {
	v, err := encodeAgent(a)
	return func(o *clientOptions) { o.agent, o.agentErr = v, err }
}

// WithIntent sends i's action and reason on every call that has no intent
// of its own (ContextWithIntent).
func WithIntent(i tollgate.Intent) ClientOption {
	return func(o *clientOptions) { o.intent = &i }
}

// WithTokenSource sends "authorization: Bearer <token>" with the token f
// returns for each call, for servers whose verifier reads tokens. An error
// from f fails the call before it is sent.
func WithTokenSource(f func(ctx context.Context) (string, error)) ClientOption {
	return func(o *clientOptions) { o.token = f }
}

type intentKey struct{}
type approvalKey struct{}

// ContextWithIntent returns a context whose outgoing calls declare intent i,
// overriding WithIntent.
func ContextWithIntent(ctx context.Context, i tollgate.Intent) context.Context {
	return context.WithValue(ctx, intentKey{}, i)
}

// ContextWithApprovalID returns a context whose outgoing calls name the
// approval id (HeaderApprovalID), for retrying a deferred call once it was
// approved.
func ContextWithApprovalID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, approvalKey{}, id)
}

// header is one outgoing header.
type header struct{ key, value string }

// headers returns what an outgoing call sends, or why it must not be sent.
func (o *clientOptions) headers(ctx context.Context) ([]header, error) {
	if o.agentErr != nil {
		return nil, o.agentErr
	}
	hs := make([]header, 0, 5)
	if o.agent != "" {
		hs = append(hs, header{HeaderAgent, o.agent})
	}
	intent, ok := ctx.Value(intentKey{}).(tollgate.Intent)
	if !ok && o.intent != nil {
		intent, ok = *o.intent, true
	}
	if ok {
		if intent.Action != "" {
			hs = append(hs, header{HeaderIntentAction, intent.Action})
		}
		if intent.Reason != "" {
			hs = append(hs, header{HeaderIntentReason, intent.Reason})
		}
	}
	if id, _ := ctx.Value(approvalKey{}).(string); id != "" {
		hs = append(hs, header{HeaderApprovalID, id})
	}
	if o.token != nil {
		tok, err := o.token(ctx)
		if err != nil {
			return nil, errors.Join(errors.New("interceptor: token source failed"), err)
		}
		hs = append(hs, header{HeaderAuthorization, "Bearer " + tok})
	}
	return hs, nil
}
