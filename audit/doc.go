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
//     calls share one write(2) (group commit), and Emit returns only once
//     its line is as durable as the sink's Durability says: a caller that
//     gets an error must refuse the call, because the audit record is
//     missing.
//   - Webhook posts alert-worthy events (blocked, approval_denied, failed,
//     timeout by default), HMAC-signed, asynchronously with retries; it never
//     delays or refuses a call.
//   - Composite fans out to several sinks and, unlike Tollgate, returns
//     their errors instead of swallowing them.
//
// # Durability
//
// WithDurability chooses what an acknowledged record — one whose Emit
// returned nil — survives. The tower writes a call's "authorized" record
// before executing it, so the same terms say what the pre-execution record
// guarantees:
//
//   - DurabilityOS, the default: written with write(2) before Emit
//     returns, fsynced in the background at most every DefaultSyncInterval
//     (100 ms; DurabilityOS.Every). A killed process (kill -9, OOM, panic)
//     loses nothing acknowledged and no call runs without its record in the
//     file; a power failure or kernel crash may lose the last interval, and
//     the log then ends early.
//   - DurabilitySync: fsynced before Emit returns, one fsync for all
//     callers that arrive together. Survives power failure; costs a disk
//     flush per group of calls.
//   - DurabilityBuffered: kept in memory and written every
//     DefaultFlushInterval (10 ms; DurabilityBuffered.Every), when 1 MiB is
//     waiting and on Close. A killed process loses the window, so a call
//     may have run whose "authorized" record is lost; a failed write
//     breaks the sink and is reported by the next Emit. Never the default.
//
// As in Redis (appendfsync always/everysec/no) and PostgreSQL
// (synchronous_commit), the window is a documented choice. In every mode
// lines are chained in order, and a crash leaves a prefix of the chain (at
// worst with a torn last line, which OpenFile refuses and says how to cut).
//
// A call's two records share their agent, intent and tool request: the
// sink redacts and encodes that part once, for the "authorized" record,
// and reuses the bytes for the outcome record with the same correlation id
// when its agent, intent and request are the same values (params,
// metadata and delegation lists the very same slices). Params changed in
// place between the two records are therefore recorded as first seen.
//
// # Signed checkpoints
//
// The hash chain has no key: whoever can write the file can edit a line and
// recompute every later hash. Given an Ed25519 key (WithCheckpointKey;
// tollgate keygen's PREFIX.key), FileSink appends a checkpoint line after
// every so many records or seconds (WithCheckpointEvery) and on Close, as
// transparency logs publish signed tree heads: a signature over the seq and
// hash of the line before it, its time and the key's id. It is a chain line
// itself, and it names the position it signs, so it cannot be moved.
// VerifyCheckpoints (tollgate audit verify --pub) checks every checkpoint
// against the chain and the trusted keys.
//
// What checkpoints prove: every line up to the last checkpoint is as the
// key holder's sink wrote it — an edited, inserted, deleted or reordered
// line, even with every hash recomputed, fails at the next checkpoint, and
// a checkpoint cannot be forged or moved without the key. What they do not
// prove: anything about the lines after the last checkpoint (only chained,
// and reported as such), and whether lines were cut from the end together
// with their checkpoints — for that, keep the last checkpoint or Head
// somewhere the log's writers cannot reach (another host, a transparency
// service) and compare. A checkpoint signs the chain as the sink found it,
// so lines rewritten while the sink was stopped are signed by the next one.
// Whoever holds the private key can sign any history: keep it away from
// the log. The Tollgate line layout of event records is unchanged;
// checkpoint lines are a second kind ("kind": "checkpoint"), which Read
// returns with Record.Checkpoint set.
//
// # Redaction
//
// Redaction happens in the sink, before anything is written or sent: a
// Redactor replaces the value of secret-looking keys (password, token,
// api_key, ...) at any depth of params and metadata, and secrets found by
// their look under any key and in the intent reason, decision reason and
// result summary (Redactor.Text: URL passwords, Bearer and Basic
// credentials, JWTs, GitHub, Slack, AWS, Stripe and other token formats,
// PEM private keys, random-looking strings). The admin API, its Watch
// stream and webhook, and the approval stores use the same Redactor. The
// request hash and approval binding are computed by the caller on the
// unredacted call, so redaction never changes them. The agent's
// "_signature" is never written at all — Tollgate logged it, and anyone who
// could read the log could replay it.
//
// # Bounded records
//
// FileSink bounds every record, so that every call — refused ones with
// huge params included — has one, and no line exceeds MaxLineSize. A string
// (param or metadata value, key, intent reason, any field) whose JSON form
// is longer than WithMaxValueSize (default 4 KiB, escapes counted: a
// control character takes 6 bytes) is written as its first 64 bytes, its
// length in bytes and its SHA-256:
//
//	"SELECT * FROM t WHERE … [TRUNCATED: 3145728 bytes, sha256:9f86…]"
//
// If the record is still too long (a great many small values), its largest
// objects are replaced by a count: {"[TRUNCATED]": "34816 keys, 35782656
// bytes"}. What an auditor can reconstruct: every value up to the limit,
// whole; of a longer one its start and size, and, holding a candidate
// original, proof that it is the one recorded (its SHA-256, taken after
// redaction); and from request_hash, which covers the complete params as
// the caller sent them, that a claimed original request is the audited
// one. What they cannot: the content of a cut value beyond its first 64
// bytes, what was in a collapsed object, or a redacted secret. Failures
// counts the records a sink could not write.
//
// Read parses ours and Tollgate's logs (including pre-1.2 lines) back into
// Records.
package audit
