package ratelimit

// Tracked is how many agents the limiter holds, for tests of forgetting.
func (l *SlidingWindow) Tracked() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.agents)
		s.mu.Unlock()
	}
	return n
}
