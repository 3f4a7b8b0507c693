package tollgate

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A clone shares no memory with its original: changing any level of one
// leaves the other as it was.
func TestAgentCloneIsDeep(t *testing.T) {
	nested := Params{{"tags", []any{"a", Params{{"k", "v"}}}}}
	a := Agent{ID: "worker", DelegatedBy: []string{"root"}, Metadata: Params{{"role", "reader"}, {"n", json.Number("1")}, {"deep", nested}}}
	c := a.Clone()
	if !reflect.DeepEqual(a, c) {
		t.Fatalf("clone = %+v, want %+v", c, a)
	}
	c.DelegatedBy[0] = "mallory"
	c.Metadata.Set("role", "admin")
	deep, _ := c.Metadata.Get("deep")
	tags, _ := deep.(Params).Get("tags")
	tags.([]any)[0] = "changed"
	tags.([]any)[1].(Params)[0].Value = "changed"

	if a.DelegatedBy[0] != "root" {
		t.Errorf("original chain changed: %v", a.DelegatedBy)
	}
	if role, _ := a.Metadata.Get("role"); role != "reader" {
		t.Errorf("original role changed: %v", role)
	}
	if got, _ := nested.Get("tags"); !reflect.DeepEqual(got, []any{"a", Params{{"k", "v"}}}) {
		t.Errorf("original nested metadata changed: %#v", got)
	}
	if z := (Agent{}).Clone(); z.DelegatedBy != nil || z.Metadata != nil {
		t.Errorf("zero agent clone = %+v, want nil slices", z)
	}
}
