// Package yamlx loads the YAML files Tollgate users bring (policies,
// manifests, scenarios) safely and the way PyYAML's safe_load reads them.
//
// Safety: input size is capped, nesting depth and alias expansion are bounded,
// duplicate keys are refused, and every error names file:line:column.
//
// Compatibility: plain scalars resolve with YAML 1.1 rules as in PyYAML
// (yes/no/on/off are booleans, 017 is octal, 1_000 is 1000, 1e3 is a
// string, 1.0e+3 is a float). Values follow the tollgate.Params model.
package yamlx
