// Package anomaly watches the audit stream for Tollgate 1.4.0's four
// anomalies — rate spike (one agent calling one tool far more often than
// usual), error burst and deny surge (one agent's failed or refused calls),
// and unusual tool (an agent's first call of a tool) — and reports each
// alert to slog, to hooks (WithHook, for example a metric) and optionally
// to a signed webhook (WithWebhook).
//
// A Detector is an audit.Sink: put it beside the file sink with
// audit.Composite, or feed it a log offline (tollgate audit anomalies).
// A rate is the number of events in the window divided by its length; each
// series (agent:tool calls, an agent's errors, an agent's denials) keeps a
// baseline of its last 100 window counts, sampled every baseline interval,
// and alerts when z = (current − mean) / stddev exceeds the threshold,
// once it has min-samples samples. Severities and messages are Tollgate's.
//
// What differs from Tollgate's AnomalyDetector, on purpose:
//
//   - Time is the event's own timestamp, not the wall clock at Emit, so a
//     replayed log gives the alerts it gave live.
//   - Each alert (type, agent, tool) has a cooldown (default: the window)
//     instead of firing on every event while the rate stays high.
//   - Memory is bounded: at most WithMaxSeries agent:tool series (LRU),
//     each a fixed-size counter; a forgotten series starts over.
//   - Counts are kept per baseline interval, so the window is a whole
//     number (≥ 2) of intervals and the current rate covers the current,
//     partial interval and the ones before it; each series is sampled when
//     its own intervals close, so an event costs O(1) whatever the number
//     of series. Tollgate's window ≤ interval, which can never alert, is
//     refused.
//   - The standard deviation is at least one event per window, so a series
//     whose baseline never varied (an agent that never failed) can still
//     alert; Tollgate skips std = 0.
//   - "authorized" records are skipped (the call's outcome record counts
//     it), as are records with a kind (configuration, checkpoints).
//   - It is safe for concurrent use; alerts are reported after its lock is
//     released.
package anomaly
