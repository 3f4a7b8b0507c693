// Package audit records every gated tool call, in Tollgate 1.4's JSONL
// format, so that the log can be proven complete and unedited.
//
// An Event is one record. Its JSON (Event.AppendJSON) is Tollgate's audit
// line byte for byte — same keys, same order, Python's ", "/": " separators,
// UTF-8 kept — plus this implementation's stage and reason_code keys, so
// tools written for Tollgate's logs keep working.
//
// Sinks receive events:
//
//   - FileSink (OpenFile) appends hash-chained lines: each line ends with
//     seq, prev_hash and hash, where hash is the SHA-256 of the line up to
//     the hash key. Editing, deleting, inserting or reordering a line breaks
//     the chain, and Verify names the first broken line. Concurrent Emit
//     calls share one write(2) and one fsync (group commit), and Emit returns
//     only once its line is written: a caller that gets an error must refuse
//     the call, because the audit record is missing.
//   - Webhook posts alert-worthy events (blocked, approval_denied, failed,
//     timeout by default), HMAC-signed, asynchronously with retries; it never
//     delays or refuses a call.
//   - Composite fans out to several sinks and, unlike Tollgate, returns
//     their errors instead of swallowing them.
//
// Redaction happens in the sink, before anything is written or sent: a
// Redactor replaces secret-looking values (password, token, api_key, ...)
// at any depth of params and metadata. The agent's "_signature" is never
// written at all — Tollgate logged it, and anyone who could read the log
// could replay it.
//
// Read parses ours and Tollgate's logs (including pre-1.2 lines) back into
// Records.
package audit
