// Package sqlitestore keeps grants, approval requests and the token replay
// cache in one SQLite file, so that they survive restarts: a pending
// approval is still there to be decided, and a grant use or a consumed
// approval is never handed out again. It is the embedded default whenever
// state must outlive the process; the memory stores (grants.NewMemory,
// approvals.NewMemoryStore, identity.NewMemoryReplayCache) are for tests
// and state that may be lost. It uses modernc.org/sqlite, so it needs no
// cgo.
//
// Open returns a DB; DB.Grants, DB.Approvals and DB.ReplayCache are the
// grants.Store, approvals.Store and identity.ReplayCache kept in it, and
// DB.KillSwitches its killswitch.Store. They pass the same conformance
// suites as the memory stores.
//
// # Kill switches
//
// A kill switch set through a KillSwitchStore is in that store's Matcher
// (what a Tower checks every call against) when Set returns. Other
// processes sharing the file read the table every resync interval
// (killswitch.DefaultResyncInterval, 1s) while their store's Run runs;
// a store whose last successful read is older than the staleness bound
// (killswitch.DefaultMaxStaleness, 5s) fails closed: its Tower refuses
// every call. Schema version 3 added the table.
//
// # Durability and atomicity
//
// The file runs in WAL mode with synchronous=FULL: when a call returns, its
// change is on disk, so neither a crash (SIGKILL) nor a power loss can undo
// a grant use or an approval's consumption after the call it allowed ran.
// (synchronous=NORMAL would survive a crash but could lose the last
// commits on power loss, which could let an approval run twice.)
//
// Every read-modify-write — consuming a grant, deciding or consuming an
// approval, recording a token — is one BEGIN IMMEDIATE transaction: the
// write lock is taken before anything is read, so no other connection, in
// this process or another, can slip in between the check and the update.
// Writes go through a single connection, which SQLite requires anyway;
// reads use a small pool of read-only connections that WAL lets run beside
// the writer. Several processes may share the file; a write waits for
// another process's lock up to the busy timeout (WithBusyTimeout).
//
// # Waiting for decisions
//
// Approvals().Wait is woken at once by a decision made through the same
// DB. A decision made by another process sharing the file is seen at the
// next poll, every 100ms by default (WithPollInterval).
//
// # What is stored
//
// Approval requests are stored with their params and metadata passed
// through audit.DefaultRedactor (WithRedactor changes that), so that
// secrets in tool arguments do not sit on disk (Tollgate 1.4.0 stored them
// in clear, §18 #39). The binding hash is computed from the call as made,
// before redaction, so redaction never loosens which call an approval is
// bound to; it only changes what Get and List show a human.
//
// Open creates a new database file with mode 0600 (owner only), and
// SQLite gives its -wal and -shm files the same mode: approval requests
// and grants are not for every local user to read. A file that already
// exists keeps its mode.
//
// Each approval request keeps every decision made on it (who, approve or
// deny, the note, when), so that the progress of a request needing
// several approvers (approvals.Request.ApprovalsRequired) survives a
// restart; Decide counts them inside its transaction, so concurrent
// approvers in any number of processes never push a request past or
// short of the number required. Schema version 2 added the list; a
// request decided before the upgrade shows its one decision.
//
// Times are stored as Unix nanoseconds: expiry and creation times must lie
// between the years 1678 and 2262, and others are refused with
// grants.ErrInvalidGrant or approvals.ErrInvalidRequest.
//
// # Schema
//
// The tables have fixed names (tollgate_grants, tollgate_approvals,
// tollgate_token_replay, tollgate_schema_migrations); no caller input is
// ever spliced into SQL. The schema is versioned: Open applies the
// embedded migrations a file lacks, in one transaction, and refuses a file
// written by a newer build (ErrNewerSchema) rather than misread it.
package sqlitestore
