// Package metrics exports what a Tower does as Prometheus metrics, on a
// registry the caller passes (never prometheus.DefaultRegisterer unless it
// is the one passed).
//
// Package tower does not import Prometheus: it tells a tower.Observer how
// each call ended and how long each stage took, and Metrics is that
// observer. Wire it in twice, as an observer and around the audit sink:
//
//	m, err := metrics.New(reg, metrics.WithBreakers(br), metrics.WithKillSwitches(kills), metrics.WithApprovals(store))
//	t, err := tower.New(cfg, tower.WithObserver(m), tower.WithAuditSink(m.Sink(sink)), ...)
//
// The metrics (docs/OBSERVABILITY.md has the full table and starter alert
// rules):
//
//   - tollgate_calls_total{tool, decision, outcome, reason}: every call that
//     ExecuteCall or Refuse handled; reason is empty for calls that ran.
//     Rate-limit refusals are reason="RATE_LIMITED".
//   - tollgate_stage_duration_seconds{stage}: time per pipeline stage, a
//     native histogram with classic buckets beside it, from the calls
//     tower.WithStageSampling times (one in four by default).
//   - tollgate_audit_records_written_total, tollgate_audit_write_errors_total
//     (Sink).
//   - tollgate_approvals_pending, tollgate_breaker_state{tool, state},
//     tollgate_kill_switches, tollgate_kill_switches_stale, read at scrape
//     time when the matching option is given.
//
// Every label value comes from a bounded set: tools the manifest knows
// (else "unknown", so invented names share one series), decisions,
// outcomes, reason codes and stages. Agent ids are never labels; find one
// agent's calls in the audit log.
//
// For RPC-level metrics (requests, codes and latency per gRPC method) use
// the ecosystem's interceptors beside Tollgate's, such as
// github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus.
package metrics
