package integrity

import (
	"strings"

	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// Messages, worded as Tollgate 1.4.0's.
const (
	msgVerified   = "Context integrity verified."
	msgNoSnapshot = "No snapshot found — nothing to verify against."
	msgNoChanges  = "No changes."
	// msgRequired is this package's own: WithRequireSnapshot refuses where
	// Tollgate would have passed with msgNoSnapshot.
	msgRequired = "No snapshot found — refusing (snapshot required)."
)

// Result is the verdict of Verify (Tollgate's VerificationResult).
type Result struct {
	Valid   bool
	AgentID string
	TurnID  string
	// Changed lists fields whose value differs, in the snapshot's order;
	// Removed those the snapshot had and the context lacks, in the
	// snapshot's order; Added those the context has and the snapshot
	// lacked, in the context's order.
	Changed, Added, Removed []string
	// Violations lists the immutable fields among Changed, Removed and
	// Added, in that order. Non-empty means invalid.
	Violations []string
	// NoSnapshot is set when there was nothing to compare with.
	NoSnapshot bool
	// Err is set when the context itself could not be checked (a value
	// outside the value model, too many fields); the Result is invalid.
	Err error
	// Message is Tollgate's: parts joined by "; " with Python list reprs,
	// e.g. "Changed: ['system_prompt']; IMMUTABLE VIOLATIONS: ['system_prompt']".
	Message string
}

// HasChanges reports whether any field was changed, added or removed.
func (r Result) HasChanges() bool {
	return len(r.Changed)+len(r.Added)+len(r.Removed) > 0
}

// message builds Tollgate's message from the lists.
func (r Result) message() string {
	var parts []string
	for _, p := range []struct {
		label  string
		fields []string
	}{
		{"Changed", r.Changed},
		{"Added", r.Added},
		{"Removed", r.Removed},
		{"IMMUTABLE VIOLATIONS", r.Violations},
	} {
		if len(p.fields) > 0 {
			parts = append(parts, p.label+": "+reprList(p.fields))
		}
	}
	if len(parts) == 0 {
		return msgNoChanges
	}
	return strings.Join(parts, "; ")
}

func reprList(fields []string) string {
	l := make([]any, len(fields))
	for i, f := range fields {
		l[i] = f
	}
	return pycompat.Repr(l)
}
