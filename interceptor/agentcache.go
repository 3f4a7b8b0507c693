package interceptor

import (
	"sync"

	"github.com/tollgate-go/tollgate"
)

// agentCacheSize bounds the decoded agent headers a front door keeps.
const agentCacheSize = 1024

// agentCache remembers decoded HeaderAgent values. An agent sends the same
// header on every call, and decoding JSON is the largest cost of gating a
// call; a copy of a cached Agent is far cheaper. Only valid headers are
// kept, and the whole cache is dropped when it is full, so a caller
// sending ever-new headers costs memory bounded by agentCacheSize.
type agentCache struct {
	mu sync.Mutex
	m  map[string]tollgate.Agent
}

// decode returns the agent in header value s.
func (c *agentCache) decode(s string) (tollgate.Agent, error) {
	c.mu.Lock()
	a, ok := c.m[s]
	c.mu.Unlock()
	if ok {
		return a.Clone(), nil
	}
	a, err := decodeAgent(s)
	if err != nil {
		return tollgate.Agent{}, err
	}
	c.mu.Lock()
	if len(c.m) >= agentCacheSize || c.m == nil {
		c.m = make(map[string]tollgate.Agent, agentCacheSize)
	}
	c.m[s] = a
	c.mu.Unlock()
	return a.Clone(), nil
}
