package registry

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// schemaURL names every params_schema inside its own compiler. Relative
// references resolve against it, and nothing under it can be loaded.
const schemaURL = "tollgate:///params_schema"

// compiledSchema is a params_schema ready to validate. doc is the schema as
// written (ordered), for quoting enum lists and bounds in messages.
type compiledSchema struct {
	sch  *jsonschema.Schema
	doc  any
	fast *fastSchema // nil: the schema needs jsonschema
}

// compileSchema compiles a params_schema node. Schemas are draft-07 unless
// they say otherwise with $schema: Tollgate's schemas are draft-07 style
// (its own JSON files declare draft-07), and in draft-07 a $ref replaces its
// sibling keywords, which is what authors of such schemas expect. format is
// asserted in every draft. An empty schema accepts everything and is
// dropped.
func compileSchema(doc *yamlx.Document, n *yaml.Node) (*compiledSchema, error) {
	if _, err := doc.Mapping(n, "params_schema"); err != nil {
		return nil, err
	}
	v, err := doc.Value(n)
	if err != nil {
		return nil, err
	}
	if len(v.(tollgate.Params)) == 0 {
		return nil, nil
	}
	if at, ok := nonFinite(v, nil); !ok {
		return nil, doc.Errorf(locate(n, at), "params_schema%s: not a finite number; JSON Schema has no NaN or infinity, write a finite bound", pointer(at))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.UseLoader(refuseLoader{})
	c.RegisterVocabulary(strictIntegers)
	c.AssertVocabs()
	if err := c.AddResource(schemaURL, tollgate.Plain(v)); err != nil {
		return nil, doc.Errorf(n, "params_schema: %v", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, schemaError(doc, n, err)
	}
	if cycle := findRefCycle(sch); cycle != nil {
		return nil, doc.Errorf(n, "params_schema: %s; every call would be refused, break the cycle", strings.ReplaceAll(cycle.LocalizedString(printer), schemaURL, ""))
	}
	return &compiledSchema{sch: sch, doc: v, fast: compileFast(v, sch)}, nil
}

// findRefCycle validates one value of each JSON type, so that a $ref cycle
// on the schema's main paths (which jsonschema only notices while
// validating) is a load error rather than a refusal of every call.
func findRefCycle(sch *jsonschema.Schema) *kind.RefCycle {
	for _, probe := range []any{nil, true, json.Number("0"), "", []any{}, map[string]any{}} {
		var ve *jsonschema.ValidationError
		if errors.As(sch.Validate(probe), &ve) {
			if c := refCycleIn(ve); c != nil {
				return c
			}
		}
	}
	return nil
}

func refCycleIn(ve *jsonschema.ValidationError) *kind.RefCycle {
	if c, ok := ve.ErrorKind.(*kind.RefCycle); ok {
		return c
	}
	for _, cause := range ve.Causes {
		if c := refCycleIn(cause); c != nil {
			return c
		}
	}
	return nil
}

// refuseLoader keeps compilation offline and off the file system: a schema
// that references anything outside itself is a load error.
type refuseLoader struct{}

func (refuseLoader) Load(string) (any, error) {
	return nil, errors.New("references outside the schema are not loaded")
}

// nonFinite finds a NaN or infinite number in a YAML value (YAML has .nan
// and .inf; JSON Schema cannot compare against them).
func nonFinite(v any, at []string) ([]string, bool) {
	switch t := v.(type) {
	case json.Number:
		if pycompat.IsFloat(t) {
			f, err := strconv.ParseFloat(string(t), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return at, false
			}
		}
	case tollgate.Params:
		for _, f := range t {
			if bad, ok := nonFinite(f.Value, append(at, f.Key)); !ok {
				return bad, false
			}
		}
	case []any:
		for i, e := range t {
			if bad, ok := nonFinite(e, append(at, strconv.Itoa(i))); !ok {
				return bad, false
			}
		}
	}
	return nil, true
}
