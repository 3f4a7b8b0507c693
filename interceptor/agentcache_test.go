package interceptor

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestAgentCache(t *testing.T) {
	var c agentCache
	a := tollgate.Agent{ID: "a", Version: "1", Owner: "o", DelegatedBy: []string{"root"},
		Metadata: tollgate.Params{{Key: "tags", Value: []any{"x"}}, {Key: "nested", Value: tollgate.Params{{Key: "k", Value: "v"}}}}}
	h, err := encodeAgent(a)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.decode(h)
	if err != nil || !reflect.DeepEqual(first, a) {
		t.Fatalf("decode = %+v, %v", first, err)
	}
	// A handler scribbling on its agent does not change the next call's.
	first.DelegatedBy[0] = "changed"
	first.Metadata[0].Value.([]any)[0] = "changed"
	first.Metadata[1].Value.(tollgate.Params)[0].Value = "changed"
	second, err := c.decode(h)
	if err != nil || !reflect.DeepEqual(second, a) {
		t.Fatalf("cached agent was changed through a copy: %+v, %v", second, err)
	}
	if _, err := c.decode("junk"); err == nil {
		t.Fatal("junk decoded")
	}
	if _, cached := c.m["junk"]; cached {
		t.Error("a malformed header was cached")
	}
	for i := range agentCacheSize + 1 {
		if _, err := c.decode(fmt.Sprintf(`{"agent_id": "a%d", "version": "1", "owner": "o"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) > agentCacheSize {
		t.Errorf("cache holds %d entries, bound is %d", len(c.m), agentCacheSize)
	}
}
