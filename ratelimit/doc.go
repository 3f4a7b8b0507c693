// Package ratelimit limits how often agents may call tools, with the rules
// and refusal texts of Tollgate 1.4.0's sliding-log rate limiter.
//
// Rules come from the `rate_limits:` list of a policy file (ParseRules) or
// are built in Go (Rule). A rule applies to a call when its agent id, tool
// (exact, "*" or "prefix*") and effect match; it admits MaxCalls calls per
// agent in any sliding Window. NewSlidingWindow compiles the rules once into
// an in-memory SlidingWindow, safe for concurrent use, whose Allow costs a
// few hundred nanoseconds and allocates nothing for an agent it already
// tracks.
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
//   - Memory is bounded by the agents live in the window (below), and a
//     bucket holds at most max_calls timestamps.
//
// As in Tollgate, a rule with agent_id "*" limits each agent separately
// (there is no global limit), a prefix rule counts all matching tools of an
// agent together, and when several rules refuse a call the first in list
// order gives the reason.
//
// # Memory
//
// SlidingWindow tracks an agent from its first counted call until every
// counted call has left its window; then the agent's counts are all zero
// and it is forgotten, which changes no decision. Forgetting is lazy and
// amortised O(1), with no background goroutine: each call looks at up to 4
// of the oldest agents in its own shard of the agent table, and every 8th
// call of a shard at up to 32 in another shard, so as long as calls arrive
// the table holds about the agents with a call inside the window (an idle
// agent may wait up to one longest window behind agents still active; a
// shard's map is rebuilt once three quarters of its peak are gone). With
// no calls at all nothing is freed until the next one. One agent under one
// rule costs about 210 bytes plus 8 per counted call: a million agents
// live in a window hold about 200 MiB.
//
// There is no cap on the number of agents, so a caller whose own window
// admits a call is never refused because others filled a table (an older
// version refused new agents when full, so whoever could mint agent ids
// could lock every new agent out). The bound on memory is therefore how
// many distinct agents can call within the longest window: per-agent
// limits cannot stop a caller who can mint identities, and verified
// identity (package identity) is what bounds them.
package ratelimit
