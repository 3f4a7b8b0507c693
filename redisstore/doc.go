// Package redisstore keeps grants, approval requests and the token replay
// cache in Redis, for deployments where several replicas of a Tollgate
// server must share one state: a grant's MaxUses is counted once across all
// of them, an approval is spent once, a token is accepted once, and a human's
// decision wakes the replica that is waiting for it.
//
// New wraps a go-redis UniversalClient (a single server, Sentinel or
// Cluster; Redis 7.0 or newer). Its Grants, Approvals and ReplayCache
// implement grants.Store, approvals.Store and identity.ReplayCache, and pass
// the same conformance suites as the memory and SQLite backends.
//
// KillSwitches is the shared killswitch.Store: a switch set on one replica
// refuses calls on every replica within milliseconds (a pub/sub
// announcement wakes each replica's Run to re-read the switches; a resync
// every second makes up for lost messages), and a replica that cannot
// reach Redis for longer than the staleness bound (5 s by default) refuses
// every call (killswitch.ErrStale). Keep the client's read and dial
// timeouts well under that bound, or a stalled Redis holds a read open
// past it.
//
// Every read-modify-write is one Lua script, so it is atomic without locks
// or retries: Consume picks the oldest usable matching grant and counts the
// use in one step, Decide adds one approver's decision to the request's
// decision list, refuses the same approver twice and settles the request
// on a denial or the required-th approval (a second decision after that
// is refused), Consume of an approval
// checks binding, outcome, use and expiry and marks it used in one step.
// Tollgate 1.4.0's Redis store got these wrong (§18): it scanned grants with
// one round trip per grant, let decisions be overwritten, and its Wait read
// the record before subscribing, so a decision made in between was lost
// until the timeout denied the call. Here Wait subscribes first, and re-reads
// the record periodically in case a pub/sub message is lost.
//
// Times are stored as fixed-width hex "time keys" whose byte order is time
// order, so nothing is rounded through a floating-point score. Approval
// records are stored with secrets redacted (WithRedactor) and expire in
// Redis a grace period after the request does; grants stay until
// CleanupExpired, as in the other backends. All keys start with a prefix
// (WithPrefix, default "tollgate:"), and the keys of each kind share a
// Cluster hash tag so that every script's keys sit in one slot (the tests
// run a single server; Cluster itself is not exercised).
package redisstore
