// Package tower is the ControlTower: the one pipeline that decides and
// records every tool call. Read pipeline.go top to bottom to see it:
//
//	global kill switch → identity → kill switches (WithKillSwitches)
//	→ manifest resolution → circuit breaker → rate limit → policy
//	→ network guard → parameter schema → manifest constraints
//	→ DENY | ASK (grant, else approver) | ALLOW
//	→ "authorized" audit record → execute → completion audit record
//
// The order is Tollgate 1.4.0's (§2.2 of its spec), with its holes closed:
//
//   - Trusted metadata (effect, resource type, manifest version) always
//     comes from the manifest, never from the caller; a tool the manifest
//     does not know has effect "unknown" and is denied.
//   - Every exit is audited, including refusals before the policy stage,
//     panics in stages or tools, cancellations, and the refusals a front
//     door makes on its own (Refuse: after identity, at stage "frontdoor").
//   - An "authorized" record is written before the tool runs; if that write
//     fails the call is refused, so nothing runs unrecorded.
//   - A panic anywhere becomes an INTERNAL (stage) or TOOL_FAILED (tool)
//     *tollgate.Error; the caller never sees a stack trace.
//
// The hot path is kept lean: an allowed call allocates six times in the
// stages (TestPipelineAllocations holds that budget), its two audit
// records share one Event kept in the call's state, and the result
// summary renders only about the 200 characters it keeps, however large
// the result (BenchmarkSummary).
//
// A Tower is safe for concurrent use. Its configuration (policy, manifest,
// limiter, network guard) is compiled once by LoadFiles and can be replaced
// atomically with Swap while calls are in flight. Watch does that when the
// files change (or on SIGHUP, WithReloadSignal), verifying the new files
// first and auditing config_loaded or config_rejected. SetShadow has a
// candidate policy decide every call too, without enforcing it; its
// disagreements are recorded and counted (ShadowDisagreements).
//
// WithObserver tells an Observer how each call ended (tool as the manifest
// knows it, decision, outcome, reason) and how long its stages took, for
// metrics: package metrics implements it for Prometheus, so this package
// imports no metrics library. Stage times use the monotonic clock, and only
// on the calls WithStageSampling picks (one in four by default).
//
// WithTracerProvider gives each call an OpenTelemetry span (SpanName) under
// the caller's, with an event per stage and the call's tool, decision,
// outcome, reason and policy rule; the tool runs inside it and the audit
// records carry its trace_id and span_id. This package uses the
// OpenTelemetry API only, never the SDK.
package tower
