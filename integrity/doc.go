// Package integrity is a context integrity monitor (Tollgate 1.4.0's
// ContextIntegrityMonitor): it snapshots an agent's context per turn and
// tells whether a later context changed, added or removed fields, and
// whether any of those fields is immutable (by default system_prompt,
// tool_permissions, security_level and role).
//
// A Snapshot keeps checksums only — the SHA-256 hex of Python's
// json.dumps(value, sort_keys=True) of the whole context and of each
// top-level field, byte-identical to Tollgate's — so no context value is
// held in memory, and reordering keys is not a change.
//
// Where it differs from Tollgate (each difference fixes a weakness; see
// docs/MIGRATING.md):
//
//   - Re-snapshotting a turn replaces it and makes it the agent's newest;
//     Tollgate kept a stale duplicate key whose eviction deleted the live
//     snapshot.
//   - WithRequireSnapshot fails closed when a turn has no snapshot (never
//     taken, evicted or expired); Tollgate always passes it.
//   - An immutable field that appears where the snapshot had none is a
//     violation (a system_prompt injected mid-conversation).
//   - WithImmutableFields with no field is an error, not the defaults.
//   - Memory is bounded over all agents (WithMaxSnapshots, WithMaxFields,
//     optional WithTTL on an injectable clock), not only per agent
//     (WithMaxTurns, Tollgate's max_snapshots).
//   - A context outside the tollgate.Params value model, with a duplicate
//     key or too many fields is refused by Snapshot and invalid for Verify.
//   - A Monitor is safe for concurrent use; the violation hook runs outside
//     its lock and a panic in it is recovered.
//
// # Use from a tool handler
//
// The monitor is not a pipeline stage: the tower does not know which part
// of a request is the agent's context or which turn it belongs to. A tool
// handler, which does, calls Record and Check inside tower.Execute's exec:
// both read the agent the tower verified (identity.FromContext), never an
// id the caller wrote. Check returns nil, or a *tollgate.Error
// (POLICY_DENIED, message "Context integrity check failed.") with a
// *ViolationError cause; returned from exec, the front doors map it to
// PermissionDenied and the call's audit record ends as failed. Being an
// error from exec, it also counts as a failure for the tool's circuit
// breaker: a caller that keeps sending tampered contexts can open it.
//
//	result, err := t.Execute(ctx, call, func(ctx context.Context) (any, error) {
//		if err := monitor.Check(ctx, req.TurnId, agentContext); err != nil {
//			return nil, err
//		}
//		...
//	})
package integrity
