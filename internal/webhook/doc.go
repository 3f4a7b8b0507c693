// Package webhook delivers signed JSON bodies to an HTTP endpoint in the
// background: a bounded queue, one delivery goroutine, retries with
// exponential backoff, and counters for what was delivered, failed or
// dropped. It never blocks the caller that queues a body, so a slow or
// dead receiver cannot slow down or refuse the calls it is told about.
//
// Each POST carries Content-Type: application/json, X-Tollgate-Timestamp
// (Unix seconds of the attempt) and, with WithSecret,
// X-Tollgate-Signature: t=<the same Unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>">, the scheme Stripe-style receivers expect (Sign). The
// timestamp is inside the MAC, so a captured delivery cannot be replayed
// with a fresh one, and the receiver's Verify refuses one older than its
// tolerance (DefaultTolerance, 5 minutes). Each attempt is signed anew
// with its own time. X-Tollgate-Timestamp is not signed and only for
// logs: receivers use the t= in the signature. Network errors, 408, 429
// and 5xx are retried; other statuses are final, and redirects are not
// followed (a redirect could send a signed body elsewhere).
//
// It is shared by the audit package's alert webhook and the admin
// package's approval notifier, so that both sign and retry the same way.
// Errors are prefixed "webhook:"; callers add their own package's prefix.
package webhook
