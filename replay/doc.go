// Package replay re-decides the calls recorded in an audit log with a
// candidate configuration, to show before a policy change is merged which
// past calls it would have decided differently (`tollgate replay`).
//
// It reads this gateway's logs and Tollgate 1.4's (audit.Read). Each call is
// decided once: its "authorized" record and its outcome record, which
// share a correlation id, are one call; checkpoint lines are skipped. The
// log is streamed: what a run keeps is the correlation ids of calls whose
// outcome record has not been read yet, and a few batches of lines. Lines
// are decoded into fixed fields (params and metadata only when a stage
// reads them) and decided on every core; a million lines take about 9 s on
// two cores (BenchmarkMillionLines).
//
// # What is replayed
//
// The stages that are pure functions of the recorded call: the policy,
// the network guard (WithGuard) and, with a manifest (WithManifest), tool
// resolution — effect, resource type and manifest version from the
// manifest, as the gateway does — and each tool's parameter schema and
// constraints. The agent is the one recorded: it was verified when the
// call was made. Identity, the circuit breaker, rate limits (which depend
// on the traffic around a call), grants and approvers are not replayed: a
// call one of them refused — or that an internal error or a cancellation
// ended, overwriting its decision — is Skipped, and an ASK stays ASK.
// Tollgate 1.4's lines have no stage key, so a DENY without a rule is
// attributed to a stage by its reason ("Rate limit exceeded…", …).
//
// A call is Changed when the candidate decides ALLOW, ASK or DENY where the
// log records another of the three; a different rule reaching the same
// decision is no change.
//
// # Redacted and cut values
//
// The audit sink writes secrets as "[REDACTED]" (by key, or inside a text
// by their look) and long values as a prefix, length and SHA-256; an
// oversized object is collapsed to a count. Replay never guesses such a
// value. A call with none is decided with Policy.Evaluate. Otherwise
// Policy.Explain says which field each rule tried before the match failed
// on (policy.Miss.Field) and which fields the matching rule reads
// (policy.RuleInfo.Reads): if any of those is lost the call is
// Undetermined, and Call.Why names the rule and the field. This is sound —
// a rule that failed on a field the log holds intact fails whatever the
// lost values were — and conservative: a rule whose first failing
// condition reads a lost field is not tried further. The network guard,
// schema and constraints read params, so a call those stages would check
// with any param lost is Undetermined too.
package replay
