// Package grantstest holds the behaviour every grants.Store must show, as a
// reusable test suite. Each backend runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		grantstest.RunConformance(t, func(t *testing.T) grants.Store { return newEmptyStore(t) })
//	}
//
// The suite pins the Tollgate 1.4.0 grant behaviours (§11, §17) plus the
// fixes this implementation makes: atomic use limits, no silent overwrite,
// a deterministic oldest-first order, and explicit times. Times are anchored
// an hour after the real clock so that backends which also expire records by
// TTL (Redis) keep every record the suite expects to see.
package grantstest
