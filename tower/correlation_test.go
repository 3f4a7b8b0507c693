package tower

import (
	"testing"

	"github.com/google/uuid"
)

// TestCorrelationIDsAreUUIDv4 checks the shape; this checks that the ids
// are canonical UUIDs as a UUID library reads them.
func TestCorrelationIDIsCanonicalUUID(t *testing.T) {
	for range 100 {
		id := newCorrelationID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("correlation id %q is not a canonical UUIDv4 (%v)", id, err)
		}
	}
}

// It runs on every call: its one allocation is the string it returns.
func TestCorrelationIDAllocatesOnlyItsResult(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	if n := testing.AllocsPerRun(100, func() { newCorrelationID() }); n > 1 {
		t.Errorf("newCorrelationID allocates %v times, want 1", n)
	}
}
