// Package admin serves Tollgate's admin API (tollgate.admin.v1, generated
// in adminv1 and adminv1connect from
// specs/proto/tollgate/admin/v1/admin.proto): people decide the calls a
// policy sent to a human, and issue standing grants.
//
//   - ApprovalService (NewApprovalService, over an approvals.Store):
//     ListPending, GetApproval, Approve (optionally issuing a grant for the
//     same agent and tool, WithGrantStore), Deny, and Watch, a server
//     stream of requests as they are created and decided.
//   - GrantService (NewGrantService, over a grants.Store): CreateGrant,
//     ListGrants, RevokeGrant.
//   - KillSwitchService (NewKillSwitchService, over a killswitch.Store):
//     SetKillSwitch, ListKillSwitches, LiftKillSwitch — stop an agent, a
//     tool, a session or everything on every replica sharing the store.
//
// Each service serves grpc-go (RegisterGRPC) and connect-go
// (ConnectHandler, which also speaks gRPC and gRPC-Web). The tollgate CLI
// talks to them: `tollgate approvals list|show|approve|deny` and
// `tollgate grants add|list|revoke` and `tollgate kill set|list|lift`.
//
// # Who may call
//
// Every call is authenticated by the identity.Verifier given WithVerifier,
// from the same Credentials as tool traffic (headers such as
// "authorization: Bearer <token>", the TLS state), and authorized by an
// Authorizer: by default RequireRole(DefaultRole), which admits a
// verified agent whose metadata has "role": "admin". With
// identity.JWTVerifier that metadata is the token's signed "meta" claim:
//
//	admin, _ := identity.NewSigner(key, kid,
//		tollgate.Agent{ID: "alice@example.com", Metadata: tollgate.Params{{Key: "role", Value: "admin"}}},
//		identity.WithAudience("tollgate-admin"))
//
// Give admin tokens an audience of their own (and ideally a key of their
// own), so that an agent's tool token is never an admin token. Never back
// the admin API with identity.NewLegacyHMAC: its signature does not cover
// metadata, so anyone with a legacy signature could claim the role.
//
// No credentials, or credentials that do not verify: Unauthenticated. A
// verified caller the Authorizer refuses: PermissionDenied. Unknown id:
// NotFound. Already decided, expired, already approved by this admin,
// already revoked: FailedPrecondition. A malformed request:
// InvalidArgument.
//
// The decider (approvals.Decision.By) and a grant's issuer
// (grants.Grant.GrantedBy) are always the verified caller's agent id,
// never a value from the request; decisions are final once a request is
// settled.
//
// # Separation of duties and the two-person rule
//
// Nobody approves a call they made or delegated: an admin whose id is the
// requesting agent's, or any member of its delegation chain, gets
// PermissionDenied from Approve, whatever their role, and the attempt is
// audited as blocked. Deny stays open to them: refusing one's own call
// carries no risk.
//
// A call whose policy rule or manifest tool sets approvals_required: N
// (the larger of the two counts) runs only after N distinct admins
// approved it; Approve records each approval and answers with the
// progress (Approval.approvals_required and Approval.decisions, the
// request still PENDING), the same admin never counts twice, and one Deny
// ends the request. Approve cannot issue a grant with such an approval
// (FailedPrecondition), and the Tower never lets a grant cover such a
// call: a grant is one admin's word.
//
// # A listener of its own
//
// Serve the admin API on its own listener, or at least its own handler
// and grpc.Server, never behind the tool traffic's Tollgate interceptors:
// those would gate admin calls as tool calls, and a tool policy is not an
// admin policy. examples/tickets serves it on a second port.
//
// # Audit
//
// Every decision and grant change, and every attempt by a verified
// non-admin to make one, is written to the sink given WithAuditSink as an
// audit.Event: the admin is the agent; the tool is the full method
// ("/tollgate.admin.v1.ApprovalService/Approve") and the action its verb
// (approve, deny, create_grant, revoke_grant); the intent reason is the
// note; params are what was asked; the decision is ALLOW (DENY for a
// non-admin) with metadata saying what was decided (approval_id, outcome,
// decided_by, note, and the decided call's agent_id and tool, or the
// grant's fields; approvals_required and approvers when the call needs
// several); the outcome is executed (an approval short of the number
// required too: it was recorded, and the summary says how many are
// missing), failed (the store refused: already decided, expired, already
// approved by this admin, unknown) or blocked (not an admin, or approving
// a call they made or delegated).
// approval_id, grant_id and request_hash link the record to the call it
// decided. When the record of a change that was made cannot be written,
// the change stands and the caller gets Internal saying so. Reads are not
// audited.
//
// # What admins see
//
// Params and metadata are shown as JSON text in the caller's key order
// with exact numbers, secret-looking values masked (WithRedactor, default
// audit.DefaultRedactor): an approver judges the call, not its secrets.
//
// # Watch
//
// Watch polls the store's pending list on every tick (WithWatchInterval,
// default one second; WithWatchTicks in tests), so it works with every
// backend and across processes. A request created and decided between two
// ticks is not reported, nor are approvals short of the number required.
//
// A stream outlives the moment its credentials were checked, so they are
// checked again, verifier and Authorizer both, on every tick before
// anything is sent: a stream ends with Unauthenticated at the first poll
// after its token expired (or its key left the key set), or with
// PermissionDenied once the Authorizer refuses the caller, and sends
// nothing after that. A single-use token is refused as replayed on those
// checks only after its signature and expiry held, so that alone does not
// end the stream.
//
// # Notifications
//
// NotifyOnCreate decorates an approvals.Store so that a Notifier hears of
// every new request, with no change to the Tower. WebhookNotifier is a
// Notifier that POSTs an HMAC-signed JSON WebhookEvent to a URL in the
// background, with retries and a bounded queue; it never delays a call.
package admin
