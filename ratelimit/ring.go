package ratelimit

// ring is the sliding log of one bucket: the times of counted calls in
// arrival order, oldest first. It grows on demand and never beyond the
// rule's max_calls, so a bucket's memory is bounded by max_calls.
type ring struct {
	ts   []int64
	head int // index of the oldest entry
	n    int // number of entries
}

// prune drops entries at or before cutoff (Tollgate keeps only timestamps
// strictly newer than now − window).
func (r *ring) prune(cutoff int64) {
	for r.n > 0 && r.ts[r.head] <= cutoff {
		r.head++
		if r.head == len(r.ts) {
			r.head = 0
		}
		r.n--
	}
}

func (r *ring) oldest() int64 { return r.ts[r.head] }

// push appends t. The caller guarantees r.n < limit.
func (r *ring) push(t int64, limit int) {
	if r.n == len(r.ts) {
		r.grow(limit)
	}
	i := r.head + r.n
	if i >= len(r.ts) {
		i -= len(r.ts)
	}
	r.ts[i] = t
	r.n++
}

// grow doubles a full ring's capacity (at least 4, at most limit),
// unwrapping it so that the oldest entry is at index 0.
func (r *ring) grow(limit int) {
	ts := make([]int64, min(max(2*len(r.ts), 4), limit))
	k := copy(ts, r.ts[r.head:])
	copy(ts[k:], r.ts[:r.head])
	r.ts, r.head = ts, 0
}
