package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Both kinds of line a checkpointing FileSink writes match the published
// schema, and a checkpoint with a stray key or an event posing as one does
// not.
func TestCheckpointLinesMatchPublishedSchema(t *testing.T) {
	valid := publishedSchema(t)
	lines := signedLog(t) // eeeCeeeCeC
	for i, l := range lines {
		if err := valid(l); err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, l)
		}
	}
	cp, ev := lines[3], lines[0]
	for name, l := range map[string]string{
		"checkpoint with a stray key": strings.Replace(cp, `"kind": "checkpoint", `, `"kind": "checkpoint", "outcome": "executed", `, 1),
		"checkpoint without its body": strings.Replace(cp, `"checkpoint": {`, `"other": {`, 1),
		"event with a checkpoint":     strings.Replace(ev, `"outcome": `, `"checkpoint": {}, "outcome": `, 1),
		"event without an outcome":    strings.Replace(ev, `"outcome": "executed", `, ``, 1),
	} {
		if valid(l) == nil {
			t.Errorf("%s passes the schema", name)
		}
	}
}

// publishedSchema compiles specs/jsonschema and returns a validator of one
// audit line against the audit event schema.
func publishedSchema(t *testing.T) func(line string) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	files, _ := filepath.Glob("../specs/jsonschema/*.schema.json")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("mem://specs/"+filepath.Base(name), doc); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := c.Compile("mem://specs/audit_event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return func(line string) error {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		return schema.Validate(v)
	}
}
