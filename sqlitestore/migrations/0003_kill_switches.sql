-- Version 3: kill switches (package killswitch). scope is the switch's
-- text form ("global", "agent:ID", "tool:PATTERN", "session:SID");
-- expires_at NULL means "until lifted". A lifted switch is deleted.

CREATE TABLE tollgate_kill_switches (
	id         TEXT    NOT NULL PRIMARY KEY,
	scope      TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	set_by     TEXT    NOT NULL,
	set_at     INTEGER NOT NULL,
	expires_at INTEGER CHECK (expires_at IS NULL OR expires_at > set_at)
) STRICT;
