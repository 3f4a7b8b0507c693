package registry

import (
	"encoding/json"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// strictIntegers makes "integer" mean an integer literal, as in Tollgate:
// 5.0 is refused. (JSON Schema counts 5.0 as an integer, but a tool written
// in Python receives it as a float.)
var strictIntegers = &jsonschema.Vocabulary{
	URL:     "tollgate:///vocab/strict-integer",
	Compile: compileStrictInteger,
}

type strictInteger struct{ types []string }

func compileStrictInteger(_ *jsonschema.CompilerContext, obj map[string]any) (jsonschema.SchemaExt, error) {
	var types []string
	switch t := obj["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				types = append(types, s)
			}
		}
	}
	hasInteger, hasNumber := false, false
	for _, t := range types {
		hasInteger = hasInteger || t == "integer"
		hasNumber = hasNumber || t == "number"
	}
	if !hasInteger || hasNumber {
		return nil, nil
	}
	return strictInteger{types}, nil
}

func (s strictInteger) Validate(ctx *jsonschema.ValidatorContext, v any) {
	switch n := v.(type) {
	case json.Number:
		if pycompat.IsFloat(n) {
			ctx.AddError(&kind.Type{Got: "number", Want: s.types})
		}
	case float32, float64:
		ctx.AddError(&kind.Type{Got: "number", Want: s.types})
	}
}
