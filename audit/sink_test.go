package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// recorder is a Sink that keeps correlation ids and returns err.
type recorder struct {
	got []string
	err error
}

func (r *recorder) Emit(_ context.Context, e *Event) error {
	r.got = append(r.got, e.CorrelationID)
	return r.err
}

func TestCompositeDeliversToAllAndJoinsErrors(t *testing.T) {
	errA, errC := errors.New("disk full"), errors.New("sink c down")
	a, b, c := &recorder{err: errA}, &recorder{}, &recorder{err: errC}
	s, err := Composite(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Emit(ctx, testEvent(7))
	for name, r := range map[string]*recorder{"a": a, "b": b, "c": c} {
		if len(r.got) != 1 || r.got[0] != "corr-7" {
			t.Errorf("sink %s received %v", name, r.got)
		}
	}
	if !errors.Is(err, errA) || !errors.Is(err, errC) {
		t.Errorf("Emit = %v; want both sink errors", err)
	}
	if !strings.Contains(err.Error(), "sink 0: disk full") || !strings.Contains(err.Error(), "sink 2: sink c down") {
		t.Errorf("error text %q does not name the sinks", err)
	}
	if err := s.Emit(ctx, testEvent(8)); !errors.Is(err, errA) {
		t.Errorf("second Emit = %v", err)
	}

	ok, _ := Composite(&recorder{}, Discard)
	if err := ok.Emit(ctx, testEvent(1)); err != nil {
		t.Errorf("Emit with no failures = %v", err)
	}
}

func TestCompositeErrors(t *testing.T) {
	if _, err := Composite(); err == nil || err.Error() != "audit: composite requires at least one sink" {
		t.Errorf("Composite() = %v", err)
	}
	if _, err := Composite(Discard, nil); err == nil || !strings.Contains(err.Error(), "sink 1 is nil") {
		t.Errorf("Composite(nil) = %v", err)
	}
	// The caller's slice may change afterwards without affecting the sink.
	a := &recorder{}
	sinks := []Sink{a}
	s, _ := Composite(sinks...)
	sinks[0] = Discard
	s.Emit(ctx, testEvent(1))
	if len(a.got) != 1 {
		t.Error("Composite kept the caller's slice")
	}
}

func TestSinkFunc(t *testing.T) {
	var got *Event
	s := SinkFunc(func(_ context.Context, e *Event) error { got = e; return nil })
	e := testEvent(1)
	if err := s.Emit(ctx, e); err != nil || got != e {
		t.Errorf("SinkFunc.Emit = %v, got %v", err, got)
	}
}
