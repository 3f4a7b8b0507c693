// Package ratelimit limits how often agents may call tools, with the rules
// and refusal texts of Tollgate 1.4.0's sliding-log rate limiter.
//
// Rules come from the `rate_limits:` list of a policy file (ParseRules) or
// are built in Go (Rule). A rule applies to a call when its agent id, tool
// (exact, "*" or "prefix*") and effect match; it admits MaxCalls calls per
// agent in any sliding Window. NewSlidingWindow compiles the rules once into
// an in-memory SlidingWindow, safe for concurrent use, whose Allow costs a
// few hundred nanoseconds and allocates nothing on the allowed path.
//
// Differences from Tollgate, all on the safe side:
//
//   - A refused call counts against no rule. Tollgate recorded the call in
//     every rule it had checked before the refusing one, so after five
//     refused writes a "5 calls per minute, any tool" rule also refused
//     reads. Here every applicable rule is checked first and the call is
//     recorded in all of them only when all have room, atomically.
//   - Mistakes in a rule are load errors with file:line:col (Tollgate
//     silently disabled a rule whose effect was misspelt, e.g. WRITE, and
//     crashed on a missing key).
//   - Buckets are keyed by (rule, exact agent id), so ids containing "|"
//     cannot collide, and Reset forgets exactly one agent.
//   - Memory is bounded: a bucket holds at most max_calls timestamps, and
//     agents whose calls have all expired are evicted when the agent table
//     is full (WithMaxKeys). When it is full of active agents, new agents
//     are refused rather than anyone's counts being forgotten.
//
// As in Tollgate, a rule with agent_id "*" limits each agent separately
// (there is no global limit), a prefix rule counts all matching tools of an
// agent together, and when several rules refuse a call the first in list
// order gives the reason.
package ratelimit
