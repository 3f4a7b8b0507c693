package tower

import (
	"errors"
	"sync"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// Stream binds the messages of one client-streaming or bidi stream, each
// gated as a call of its own, to what the stream presented once: its
// headers. A front door gives every call of the stream the same *Stream
// (Call.Stream); the zero value is ready. Never share one between streams.
//
// Identity: a stream presents its credentials once, so a single-use token
// (identity.WithReplayCache) is spent by the stream's first call. Every
// later call is still verified in full — signature, expiry, key still in
// the set — and a verifier error that is only the token's replay
// (identity.ErrReplayed) is accepted as the stream's own earlier use: the
// call runs as the agent verified for the stream. A message sent after the
// token expired is refused. Another stream or a unary call presenting the
// same token is refused as a replay, as before. This relies on verifiers
// reporting a replay only for credentials that otherwise verify, which
// JWTVerifier does (it consults the replay cache last).
//
// Approvals: the approval id a stream brings (Call.ApprovalID, from its
// headers) is redeemed by the stream's first ASK call, which it must have
// been given for; later ASK calls of the stream ask on their own (a grant,
// the approver, or a new deferred approval with its own id). Calls the
// policy allows run as they always do and do not spend the id.
type Stream struct {
	mu            sync.Mutex
	agent         *tollgate.Agent // verified for the stream; nil until a call verified
	approvalTaken bool            // the stream's approval id went to an ASK call
}

// bind returns the verifier's result for a call of the stream: a replay of
// the stream's own credentials becomes the agent verified for the stream.
func (s *Stream) bind(agent tollgate.Agent, err error) (tollgate.Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		if s.agent == nil {
			kept := agent.Clone()
			s.agent = &kept
		}
		return agent, nil
	case s.agent != nil && errors.Is(err, identity.ErrReplayed):
		return s.agent.Clone(), nil
	}
	return agent, err
}

// takeApproval reports whether this ASK call redeems the stream's approval
// id: true for the first one only.
func (s *Stream) takeApproval() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := s.approvalTaken
	s.approvalTaken = true
	return !taken
}

// verifyCredentials asks the verifier who is calling, binding a stream's
// calls to the stream's verification.
func (f *flight) verifyCredentials() (tollgate.Agent, error) {
	agent, err := f.t.verifier.Verify(f.ctx, f.call.Credentials)
	if s := f.call.Stream; s != nil {
		return s.bind(agent, err)
	}
	return agent, err
}

// approvalToRedeem returns the approval id this ASK call spends, "" for
// none: never in a dry run or without an approval store, and on a stream
// only for its first ASK call.
func (f *flight) approvalToRedeem(dryRun bool) string {
	id := f.call.ApprovalID
	if id == "" || f.t.pending == nil || dryRun {
		return ""
	}
	if s := f.call.Stream; s != nil && !s.takeApproval() {
		return ""
	}
	return id
}
