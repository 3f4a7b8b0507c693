package metrics

import (
	"context"

	"github.com/tollgate-go/tollgate/audit"
)

// Sink wraps next, the Tower's audit sink, to count the records written
// and failed (tollgate_audit_records_written_total,
// tollgate_audit_write_errors_total). Every record goes through it: calls'
// records and config_loaded / config_rejected ones alike. Emit's error is
// next's, unchanged. How long writing takes, fsync included when the sink
// syncs, is tollgate_stage_duration_seconds{stage="audit"} (a call's
// records): the pipeline times it already, so Sink reads no clock.
func (m *Metrics) Sink(next audit.Sink) audit.Sink {
	return audit.SinkFunc(func(ctx context.Context, e *audit.Event) error {
		err := next.Emit(ctx, e)
		if err != nil {
			m.errs.Inc()
		} else {
			m.records.Inc()
		}
		return err
	})
}
