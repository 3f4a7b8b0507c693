package registry

import "github.com/tollgate-go/tollgate"

// FastPath reports whether the tool's params_schema takes the fast path.
func FastPath(t *Tool) bool { return t.schema != nil && t.schema.fast != nil }

// ValidateParamsJSONSchema validates with jsonschema even when the fast path
// would be taken, as the reference for the fast path.
func ValidateParamsJSONSchema(t *Tool, params tollgate.Params) []tollgate.Violation {
	if t.schema == nil {
		return nil
	}
	return t.schema.validateJSONSchema(params)
}
