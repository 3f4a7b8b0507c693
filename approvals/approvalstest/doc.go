// Package approvalstest holds the behaviour every approvals.Store must show,
// as a reusable test suite. Each backend runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		approvalstest.RunConformance(t, func(t *testing.T) approvals.Store { return newEmptyStore(t) })
//	}
//
// The suite pins the guarantees Tollgate's approval stores lacked: a
// decision is final, an approval is consumed at most once (exactly one of 50
// concurrent consumers wins), only by the call it was given for and only
// before it expires, and Wait wakes up as soon as a decision lands. It
// also pins separation of duties and the two-person rule: the requesting
// agent and its delegators cannot approve, an approval settles a request
// only once Request.Required distinct people gave one (the same person
// twice counts once, also when racing itself), one denial ends it, and of
// many approvers racing exactly N succeed. Times
// are anchored an hour after the real clock so that backends which also
// expire records by TTL keep every record the suite expects to see.
package approvalstest
