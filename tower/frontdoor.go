package tower

import (
	"context"

	"github.com/tollgate-go/tollgate"
)

// Refuse records a refusal a front door made on its own, before the call
// could go through the pipeline: a request it cannot render as params, a
// request type it cannot find, a message too large to read. Such a call is
// an exit like any other, so it is audited like any other: the tool is
// resolved in the manifest and the credentials are verified, so the record
// names the verified agent; then the call is recorded as blocked with the
// refusal's stage (tollgate.StageFrontDoor when it has none) and reason.
//
// Credentials that do not verify win, as in the pipeline: the call is
// refused and recorded at the identity stage, and an unverified caller
// learns nothing about how its request was read.
//
// call.Request carries the tool and action; its params are whatever the
// front door could read (usually none). Refuse returns the refusal to send
// to the caller, with the tool and correlation id set. A nil refusal, or
// one without a reason, is recorded as INTERNAL.
func (t *Tower) Refuse(ctx context.Context, call Call, refusal *tollgate.Error) *tollgate.Error {
	f := t.start(ctx, call)
	f.startSpan()
	err := f.safely(func() *tollgate.Error { return f.frontDoor(refusal) })
	f.emit(err, "")
	return err
}

func (f *flight) frontDoor(refusal *tollgate.Error) *tollgate.Error {
	if err := f.identify(); err != nil {
		return err
	}
	if refusal == nil || refusal.Reason == "" {
		return f.block(tollgate.StageFrontDoor, tollgate.ReasonInternal, "Front door refused the call without a reason.", internalMessage)
	}
	stage := refusal.Stage
	if stage == "" {
		stage = tollgate.StageFrontDoor
	}
	e := f.block(stage, refusal.Reason, refusal.Message, refusal.Message)
	e.Violations, e.RetryAfter, e.Err = refusal.Violations, refusal.RetryAfter, refusal.Err
	return e
}
