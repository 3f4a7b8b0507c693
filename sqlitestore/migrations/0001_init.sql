-- Version 1: grants, approval requests and the token replay cache.
-- Times are Unix nanoseconds (INTEGER); a NULL time means "not yet".

CREATE TABLE tollgate_grants (
	id            TEXT    NOT NULL PRIMARY KEY,
	agent_id      TEXT    NOT NULL, -- '' matches any agent
	effect        TEXT    NOT NULL, -- '' matches any effect
	tool          TEXT    NOT NULL, -- '' matches any tool; a trailing '*' is a prefix
	action        TEXT    NOT NULL,
	resource_type TEXT    NOT NULL,
	expires_at    INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	granted_by    TEXT    NOT NULL,
	reason        TEXT    NOT NULL,
	max_uses      INTEGER NOT NULL CHECK (max_uses >= 0), -- 0 is unlimited
	uses          INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND (max_uses = 0 OR uses <= max_uses)),
	revoked       INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;

-- Consume looks grants up by agent (the caller's and the wildcard '') and
-- walks them in grants.Compare order.
CREATE INDEX tollgate_grants_agent ON tollgate_grants (agent_id, created_at, id);
CREATE INDEX tollgate_grants_expiry ON tollgate_grants (expires_at);

CREATE TABLE tollgate_approvals (
	seq          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, -- creation order
	id           TEXT    NOT NULL UNIQUE,
	request      TEXT    NOT NULL, -- JSON, params redacted (see codec.go)
	binding_hash TEXT    NOT NULL, -- approvals.BindingHash of the unredacted call
	expires_at   INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	outcome      TEXT    NOT NULL DEFAULT 'deferred' CHECK (outcome IN ('deferred', 'approved', 'denied')),
	decided_by   TEXT    NOT NULL DEFAULT '',
	note         TEXT    NOT NULL DEFAULT '',
	decided_at   INTEGER,
	used_at      INTEGER CHECK (used_at IS NULL OR outcome = 'approved')
) STRICT;

CREATE INDEX tollgate_approvals_pending ON tollgate_approvals (seq) WHERE outcome = 'deferred';

CREATE TABLE tollgate_token_replay (
	jti        TEXT    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX tollgate_token_replay_expiry ON tollgate_token_replay (expires_at);
