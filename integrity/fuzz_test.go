package integrity

import (
	"log/slog"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// FuzzVerify snapshots one JSON object and verifies another against it:
// never a panic, a context always verifies against its own snapshot, and
// the verdict is invalid exactly when an immutable field moved.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"system_prompt": "a", "turn": 1}`), []byte(`{"turn": 1.0, "system_prompt": "a"}`))
	f.Add([]byte(`{"role": "user"}`), []byte(`{"role": "admin", "x": [1, {"y": null}]}`))
	f.Add([]byte(`{"security_level": 1e400}`), []byte(`{}`))
	f.Add([]byte(`{"a": "\u00e9\ud83d\ude00"}`), []byte(`{"a": "é😀", "tool_permissions": []}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		before, err := tollgate.ParseParams(a)
		if err != nil {
			return
		}
		m, err := New(WithLogger(slog.New(slog.DiscardHandler)), WithRequireSnapshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Snapshot("a", "t", before); err != nil {
			if len(before) <= DefaultMaxFields {
				t.Fatalf("Snapshot of a parsed object: %v", err)
			}
			return
		}
		if r := m.Verify("a", "t", before); !r.Valid || r.Message != msgVerified {
			t.Fatalf("own snapshot: %+v", r)
		}
		after, err := tollgate.ParseParams(b)
		if err != nil {
			return
		}
		r := m.Verify("a", "t", after)
		if r.Err != nil {
			return
		}
		moved := false
		for _, l := range [][]string{r.Changed, r.Added, r.Removed} {
			for _, k := range l {
				_, imm := m.immutable[k]
				moved = moved || imm
			}
		}
		if r.Valid == moved {
			t.Fatalf("valid %v with immutable fields moved %v: %+v", r.Valid, moved, r)
		}
	})
}
