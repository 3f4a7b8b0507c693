// Package registry loads the tool manifest: the developer-controlled file
// that says what each tool does (effect, resource type), which parameters it
// accepts (params_schema, a JSON Schema) and which values it must never see
// (constraints: URL allow/block lists, allowed values, patterns).
//
// The manifest is the only source of trusted tool metadata: the pipeline
// resolves every call's effect from it and ignores what the caller claims.
// That is why loading is strict where Tollgate 1.4.0 was lenient:
//
//   - A signature (Tollgate's HMAC .sig, or Ed25519) is checked on the same
//     bytes that are then parsed; the file is read once.
//   - Unknown keys, invalid effects, schemas that do not compile and regular
//     expressions Go cannot run are load errors naming file:line:column and
//     saying how to fix them, instead of being ignored or failing at call
//     time.
//   - params_schema is full JSON Schema (santhosh-tekuri/jsonschema/v6,
//     draft-07 unless the schema names another $schema), compiled once;
//     format, additionalProperties, type lists and the combinators are
//     enforced. References outside the schema are never loaded. A schema
//     that uses only simple keywords (type, enum, const, string and number
//     bounds, pattern, required, properties, boolean additionalProperties,
//     a single items schema) is validated by a fast path that walks the
//     parameters directly and agrees with jsonschema on every input
//     (fastpath.go; FuzzFastPathMatchesJSONSchema checks it).
//   - URL constraints see every URL in the parameters, at any depth and with
//     any scheme, and match patterns on parsed URL components (package
//     netguard), so a host wildcard cannot be satisfied by a path.
//
// Messages keep Tollgate's wording wherever Tollgate had the check, so logs
// and tests written against Tollgate still match. docs/MIGRATING-registry.md
// lists every behavioural difference.
//
// A Manifest and its Tools are immutable after loading and safe for
// concurrent use.
package registry
