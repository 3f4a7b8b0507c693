// Package grants stores standing permissions that let a call the policy
// sent to ASK run without asking a human: "agent X may call tool Y until
// Z". A grant never overrides DENY, and the pipeline consults grants only
// after the network, schema and constraint checks have passed.
//
// Grant.Matches holds the Tollgate 1.4.0 field matching (§11.1), and
// Grant.Active the liveness rule (unexpired, unrevoked, uses left), so that
// every Store backend decides the same way. A Store consumes a grant
// atomically: with MaxUses set, exactly MaxUses concurrent callers succeed.
// Stores take the current time as an explicit argument, so expiry is
// testable without a clock and a zero time is refused rather than treated
// as the distant past.
//
// NewMemory is the in-process Store. Durable backends (SQLite, Redis) live
// elsewhere and prove their behaviour with grantstest.RunConformance.
package grants
