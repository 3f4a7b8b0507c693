// Package killswitch stops agents, tools, sessions or everything at once,
// on every replica, without a deploy.
//
// A Switch has a Scope — "global", "agent:ID", "tool:PATTERN" or
// "session:SID" (ParseScope) — a reason, who set it and when, and an
// optional expiry, at which it lifts itself. The pipeline
// (tower.WithKillSwitches) refuses a call a switch in force covers with
// reason KILLED at stage killswitch, and audits it like every refusal:
//
//   - global refuses every call, checked before the caller's credentials
//     are verified, so even calls that would not verify are refused KILLED;
//   - agent:ID refuses calls by the verified agent ID, and calls whose
//     delegation chain includes ID (stopping an orchestrator stops what it
//     delegated);
//   - tool:PATTERN refuses calls of a tool: the exact name, or a prefix
//     ending in "*" ("mcp:*"; "*" is every tool), the trailing-"*" rule
//     grants and rate limits use for tools;
//   - session:SID refuses calls whose verified token carries "sid": SID
//     (tollgate.Agent.SessionID; `tollgate identity mint --sid`). Without a
//     token verifier no call has a session, so such a switch refuses
//     nothing.
//
// # Stores
//
// A Store keeps switches (Set, Lift, List) and is a Source: its Matcher,
// the switches compiled so the per-call check costs a few nanoseconds
// when none is set and a few map lookups when some are. NewMemory is the
// in-process Store. The SQLite and Redis backends (sqlitestore,
// redisstore) share switches between processes and keep each process's
// copy in a Mirror: re-read at once after a change made through it, on a
// backend's announcement (Redis pub/sub), and every resync interval in
// any case (DefaultResyncInterval). A Mirror fails closed: when it has not
// confirmed its copy for longer than the staleness bound
// (DefaultMaxStaleness; WithMaxStaleness), Matcher returns ErrStale and
// the pipeline refuses every call, because a replica out of touch with
// the store cannot know whether a switch was set.
//
// Every backend proves its behaviour with killswitchtest.RunConformance.
// Operators set and lift switches through the admin API
// (admin.NewKillSwitchService) or `tollgate kill set|list|lift`.
package killswitch
