// Package pycompat reproduces the few Python behaviours that Tollgate 1.4.0
// files and logs depend on: Python equality and ordering between JSON/YAML
// values, repr() for error messages, float repr, and json.dumps output (with
// and without sort_keys/ensure_ascii) for request hashes and audit lines.
//
// Values follow the tollgate.Params model: nil, bool, string, json.Number,
// []any and tollgate.Params.
package pycompat
