package anomaly

import "math"

// maxSamples is how many baseline samples a counter keeps, as Tollgate does.
const maxSamples = 100

// counter counts events in buckets one baseline interval wide and keeps a
// baseline of past window counts. The window is the newest w buckets (the
// current, partial one and the w-1 before it); each time a bucket closes
// the count of the w buckets ending with it becomes a baseline sample.
// Counting in buckets keeps a series' memory fixed however fast it is
// called, and sampling each series when its own buckets close (instead of
// Tollgate's global sweep over every series) keeps an event O(1) — an idle
// series catches up on its next event, with the zero samples it missed.
type counter struct {
	ring    []uint32 // ring[i%w] is bucket i, for the w newest buckets
	cur     int64    // index of the newest bucket
	total   uint64   // sum of ring: the events in the window
	started bool

	samples   [maxSamples]uint32
	n, head   int // samples held; next slot to write
	mean, std float64
	alerted   bool
	lastAlert int64 // event time (UnixNano) of the last alert, if alerted
}

func newCounter(w int) counter { return counter{ring: make([]uint32, w)} }

// reset empties c for another series, keeping its ring.
func (c *counter) reset() {
	ring := c.ring
	clear(ring)
	*c = counter{ring: ring}
}

// observe moves the window to bucket idx and adds n events to it. An event
// older than the window is dropped; one in an earlier bucket still in the
// window is counted there (events arrive slightly out of order when calls
// run concurrently).
func (c *counter) observe(idx int64, n uint32) {
	w := int64(len(c.ring))
	switch {
	case !c.started:
		c.started, c.cur = true, idx
	case idx > c.cur:
		c.advance(idx)
	case c.cur-idx >= w:
		return
	}
	if n > 0 {
		c.ring[mod(idx, w)] += n
		c.total += uint64(n)
	}
}

// advance closes every bucket before idx, sampling the window at each close.
func (c *counter) advance(idx int64) {
	w := int64(len(c.ring))
	// After w closes the ring is empty and every further sample is zero;
	// more than maxSamples of those would only overwrite each other.
	steps := min(idx-c.cur, w+maxSamples)
	for range steps {
		c.push(uint32(min(c.total, math.MaxUint32)))
		c.cur++
		slot := mod(c.cur, w)
		c.total -= uint64(c.ring[slot])
		c.ring[slot] = 0
	}
	c.cur = idx
	c.stats()
}

func (c *counter) push(v uint32) {
	c.samples[c.head] = v
	c.head = (c.head + 1) % maxSamples
	c.n = min(c.n+1, maxSamples)
}

// stats recomputes the baseline's mean and sample standard deviation (n-1
// denominator, as Tollgate). It runs once per closed interval, not per event.
func (c *counter) stats() {
	if c.n == 0 {
		return
	}
	var sum float64
	for i := range c.n {
		sum += float64(c.samples[i])
	}
	c.mean = sum / float64(c.n)
	if c.n < 2 {
		c.std = 0
		return
	}
	var ss float64
	for i := range c.n {
		d := float64(c.samples[i]) - c.mean
		ss += d * d
	}
	c.std = math.Sqrt(ss / float64(c.n-1))
}

// zScore returns how many standard deviations the window's count is above
// the baseline mean, and false while the baseline has fewer than minSamples
// samples. The deviation is at least one event: counts are whole numbers,
// and without a floor a series whose baseline never varied (an agent that
// never failed) could never alert — Tollgate skips std = 0.
func (c *counter) zScore(minSamples int) (float64, bool) {
	if c.n < max(minSamples, 2) {
		return 0, false
	}
	return (float64(c.total) - c.mean) / max(c.std, 1), true
}

// mod is the non-negative remainder, for bucket indices before 1970.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
