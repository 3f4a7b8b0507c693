// Package policytest runs declarative policy test scenarios: the library
// behind `tollgate test-policy`, compatible with Tollgate 1.4.0's
// policy_testing module so that existing scenario files, CI log searches and
// habits carry over.
//
// A scenario file has a top-level `scenarios:` list. Each scenario names a
// call (agent, intent, tool_request — anything left out takes Tollgate's
// defaults, see DefaultCall) and what the policy must decide:
//
//	scenarios:
//	  - name: "Allow read operations"
//	    agent: {agent_id: "test-agent", version: "1.0", owner: "test-team"}
//	    tool_request:
//	      tool: "api:fetch_data"
//	      effect: "read"
//	      manifest_version: "1.0.0"   # without it, an ALLOW becomes ASK
//	    expected:
//	      decision: "ALLOW"           # required: ALLOW, ASK or DENY
//	      policy_id: "allow_reads"    # optional: exact rule id
//	      reason_contains: "safe"     # optional: substring of the reason
//
// LoadScenarios and ParseScenarios validate the file up front with
// Tollgate's messages ("Scenario 'x' is missing 'expected' key") plus
// file:line:column; values of the wrong shape, which Tollgate only noticed
// while running, are load errors too. WithStrict also refuses unknown keys,
// effects that are not one of the five, and an empty list.
//
// Run evaluates each scenario with a policy.Evaluator and compares, as
// Tollgate does: only the policy is exercised. WithManifest instead resolves
// each scenario's tool through a manifest, as the gateway does in production,
// so that effect, resource type and manifest version are the manifest's.
//
// Three Reporters print a Result: Text (Tollgate's report line for line,
// and its quiet mode), JSON (JSON Lines, one object per scenario and a
// summary) and JUnit (XML for CI test report viewers).
//
// Files of 100,000 scenarios are routine in generated suites: scenario files
// may be up to MaxFileSize (32 MiB), and large block-style files are parsed
// in pieces in parallel, which is faster and bounds memory. Each piece goes
// through a fast parser for plain YAML, or yaml.v3 when it holds anything
// unusual; a whole-file parse is the fallback. All paths give identical
// results and errors, which differential fuzz tests check.
package policytest
