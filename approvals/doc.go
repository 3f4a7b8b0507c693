// Package approvals decides calls the policy sent to ASK and no grant
// covered: an Approver answers approved, denied, deferred or timeout.
//
// Everything fails closed. DenyAll is the default Approver; Callback and
// QueueApprover never turn a timeout into an approval (Tollgate's
// AsyncQueueApprover could, §18 #38).
//
// Two hashes bind an approval to a call. RequestHash is Tollgate 1.4.0's
// request_hash (§12.1), kept byte for byte because audit logs record it.
// It omits the owner, the delegation chain, the intent reason and the
// manifest version, so an approval bound by it could be reused by a
// differently delegated caller. BindingHash covers those too, with
// length-prefixed fields that no value can forge, and is what a Store binds
// approvals to.
//
// A Store keeps approval requests for a human (or another system) to decide
// later. Decisions are final, and an approval is consumed at most once, only
// by the exact call it was given for, and only before it expires — the
// guarantees Tollgate's stores lacked (§18 #36). NewMemoryStore is the
// in-process Store; durable backends prove themselves with
// approvalstest.RunConformance. QueueApprover waits on a Store for the
// decision while the caller blocks.
//
// Separation of duties and the two-person rule: a request needs
// Request.Required distinct approvers (Request.ApprovalsRequired, from the
// policy rule's or manifest tool's approvals_required), and nobody who
// made or delegated the call may approve it (Request.Involves). Each Store
// records every decision (Record.Decisions) and settles the request on a
// denial or on the last approval needed; Record.Apply is the one
// definition of these rules. Callback and AutoApproveReads are one
// approver each, so they deny a request that needs more.
package approvals
