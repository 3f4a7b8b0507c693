package ratelimit

import "testing"

func TestRingKeepsOrderAcrossWrapAndGrowth(t *testing.T) {
	var r ring
	const limit = 6
	for i := int64(1); i <= 3; i++ {
		r.push(i, limit)
	}
	r.prune(2) // drops 1 and 2
	for i := int64(4); i <= 8; i++ {
		r.push(i, limit) // wraps, then grows from 4 to 6
	}
	if len(r.ts) != limit {
		t.Fatalf("capacity = %d, want %d (bounded by max_calls)", len(r.ts), limit)
	}
	var got []int64
	for r.n > 0 {
		got = append(got, r.oldest())
		r.prune(r.oldest())
	}
	want := []int64{3, 4, 5, 6, 7, 8}
	if len(got) != len(want) {
		t.Fatalf("entries = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entries = %v, want %v", got, want)
		}
	}
}

func TestRingCapacityNeverExceedsLimit(t *testing.T) {
	var r ring
	for i := range int64(3) {
		r.push(i, 3)
	}
	if len(r.ts) != 3 {
		t.Fatalf("capacity = %d, want 3", len(r.ts))
	}
}
