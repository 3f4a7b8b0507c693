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
		return cloneAgent(a), nil
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
	return cloneAgent(a), nil
}

// cloneAgent copies a deeply, so a handler that changes the Agent it finds
// in its context cannot change what later calls decode.
func cloneAgent(a tollgate.Agent) tollgate.Agent {
	if a.DelegatedBy != nil {
		a.DelegatedBy = append([]string(nil), a.DelegatedBy...)
	}
	if a.Metadata != nil {
		a.Metadata = cloneValue(a.Metadata).(tollgate.Params)
	}
	return a
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case tollgate.Params:
		out := make(tollgate.Params, len(t))
		for i, f := range t {
			out[i] = tollgate.Field{Key: f.Key, Value: cloneValue(f.Value)}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v // nil, bool, string, json.Number: immutable
}
