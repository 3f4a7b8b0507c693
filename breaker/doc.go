// Package breaker stops calling a tool that keeps failing: after
// FailureThreshold consecutive failures the tool's circuit opens and its
// calls are refused for Cooldown, then a limited number of trial calls
// decide whether it closes again. This is Tollgate 1.4.0's circuit breaker
// (same defaults, states and refusal text), built on sony/gobreaker's
// TwoStepCircuitBreaker.
//
// Use: Allow before the call; if it returns an *OpenError, refuse the call;
// otherwise run it and report how it ended with done(Success), done(Failure)
// or done(Ignored). Only the tool's own errors and panics are failures. A
// call refused later in the pipeline (policy, limits, validation) or
// cancelled by its caller says nothing about the tool and must be reported
// as Ignored, so it neither trips the circuit nor resets a run of failures.
//
// Differences from Tollgate:
//
//   - A half-open circuit admits at most HalfOpenMaxCalls trial calls at a
//     time (default 1); Tollgate stored that setting but let every call
//     through, so a recovering tool got the full load at once. Trial calls
//     reported as Ignored free their slot.
//   - Circuits are per tool, keyed by the one canonical tool name; Tollgate
//     keyed them by the text "tool:action", which could collide.
//   - Times in refusals (RetryAfter, "seconds remaining") come from
//     Settings.Clock, but when the cooldown ends is decided by gobreaker on
//     the real clock: it has no injectable clock. Tests use a tiny Cooldown
//     to see a circuit go half-open, and a long one to see it stay open.
package breaker
