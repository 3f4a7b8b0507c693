// Package tollgate is the vocabulary shared by every Tollgate stage: who is
// calling (Agent), why (Intent), what (ToolRequest with its Effect and
// ordered Params), what was decided (Decision), how it ended (Outcome), and
// the one error type (*Error) whose stable Reason codes the gRPC and Connect
// front doors map to status codes.
//
// The package holds types only. The pipeline that decides and records each
// call lives in package tower; each stage lives in its own package
// (identity, breaker, ratelimit, policy, registry, netguard, grants,
// approvals, audit).
//
// Params keep key order and the integer/float distinction of the JSON they
// were decoded from, so that error messages, request hashes and audit lines
// match Tollgate 1.4.0 byte for byte.
package tollgate
