// Package vsopa compares Tollgate's policy evaluator (package policy) with
// Open Policy Agent v1 deciding the same rules written in Rego.
//
// Generate writes a policy as Rules, a subset of Tollgate's format whose
// meaning Rego can express exactly: tool, action, resource_type, effect,
// agent_id, the four delegation filters, intent action, and when:
// comparisons of text or numbers (booleans are left out because Python's
// True == 1 does not hold in Rego). YAML renders the rules for package
// policy; RegoIndexed and RegoData render the same rules as Rego with
// first-match-wins semantics:
//
//   - RegoIndexed generates one partial-set rule per policy rule, adding
//     its index to `match`; the decision comes from the smallest index.
//     Its equality tests are what OPA's rule index keys on, so this is
//     OPA's fastest form of the policy.
//   - RegoData keeps the rules as an ordered array and tests each with one
//     generic Rego rule, as a policy shipped as data would be.
//
// The tests check that package policy and both Rego forms decide alike
// (decision, rule id, reason) on random calls and on the
// security_hardened example's scenarios; the benchmarks time one decision
// of each at 10 and 1,000 rules.
package vsopa
