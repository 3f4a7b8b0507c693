// Package policy reads Tollgate 1.4.0 policy YAML and decides tool calls
// exactly as Tollgate's YamlPolicyEvaluator does, while refusing at load
// time the mistakes Tollgate silently accepted.
//
// # File format
//
//	version: "1.0"          # optional; absent → first 8 hex digits of the SHA-256 of the text
//	rules:                  # tried top to bottom; the first rule that matches decides
//	  - id: allow_reads
//	    effect: read        # read, write, delete or notify
//	    decision: ALLOW     # ALLOW, ASK or DENY (required)
//	    reason: "Reads are safe"
//	  - id: high_risk
//	    when: {risk_score: {">=": 0.8}}
//	    decision: DENY
//	rate_limits: [...]      # not read here: see Policy.Section
//	network_policy: {...}   # not read here: see Policy.Section
//
// A rule's keys are id, decision, reason, metadata, tool, action,
// resource_type, effect, agent, intent and when. A key absent from a rule
// matches anything. tool, action, resource_type and effect compare exactly
// and case-sensitively with the request (no globbing). Every comparison
// uses Python equality against the value as YAML typed it: `version: 1.0`
// is the float 1.0 and never equals the agent version "1.0" (quote it),
// while `is_vip: true` equals the metadata value 1.
//
// agent: compares agent_id, version and owner with the Agent's fields and
// environment and role with Agent.Metadata. intent: compares action and
// reason with the Intent's fields and session_id with Intent.Metadata.
//
// when: tests top-level keys of ToolRequest.Metadata (an absent key reads
// as null). A scalar or list value means "equal to"; a mapping holds
// operators ==, !=, >, >=, <, <= that must all hold. Ordering null is
// false; `!=` holds for an absent key; an empty mapping always holds.
// Ordering values Python cannot order (text against a number) makes the
// rule not match. Metadata comes from the caller: use when: to narrow what
// a rule allows, not to widen it.
//
// # Delegation keys are filters
//
// The four delegation keys of agent: never make a rule match; each can only
// stop it from matching. This is how Tollgate 1.4.0 behaves, although its
// README describes them as conditions:
//
//   - deny_delegated: true — the rule skips delegated agents (so a DENY rule
//     with it denies only direct agents).
//   - max_delegation_depth: N — the rule skips agents whose chain is longer
//     than N; with 0 only direct agents match.
//   - allowed_delegators: [a, b] — the rule skips direct agents, and
//     delegated agents unless some agent anywhere in their chain is listed.
//     An empty list never matches.
//   - blocked_delegators: [a, b] — the rule skips delegated agents with a
//     listed agent anywhere in their chain; direct agents are unaffected.
//
// So `{effect: write, decision: DENY, agent: {max_delegation_depth: 2}}`
// denies direct and shallow writes and lets deeper chains fall through to
// later rules. To deny delegated writes, put an ALLOW or ASK rule carrying
// the filter first and a catch-all DENY after it, as the shipped
// security_hardened example does.
//
// # Decisions
//
// An effect other than read, write, delete or notify is denied with
// ReasonUnknownEffect before any rule is consulted. A matching rule's ALLOW
// becomes ASK (ReasonUntrusted, no policy id, no metadata) when the request
// has no ManifestVersion, i.e. its effect and resource type did not come
// from a trusted manifest. No matching rule is DENY (ReasonNoMatch).
//
// # Safer than Tollgate
//
// Unknown keys at any level, unknown when: operators, a missing or invalid
// decision, an empty file, `rules:` with no list, and values of the wrong
// shape are load errors naming file:line:column and saying how to fix them.
// Legal but suspicious content (a condition that can never match, a
// numeric version, duplicate ids) is listed by Warnings.
//
// # Performance
//
// Rules are compiled once; an index lists, per tool and effect, the rules
// that can match, so evaluation cost does not grow with rules for other
// tools. Rules without a tool: key are listed once and merged in file
// order with the tool's own rules while evaluating, so compiling is linear
// in rules: 10,000 rules load in about 130 ms and keep about 7 MiB (the
// YAML syntax tree of the rules is dropped once compiled). Evaluate is safe
// for concurrent use and allocation-free unless a when: condition compares
// integers. Explain tries every rule and says why each earlier rule
// failed; it always reaches the same decision (a fuzz target checks this).
package policy
