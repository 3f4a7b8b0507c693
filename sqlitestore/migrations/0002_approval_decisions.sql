-- Version 2: separation of duties and the two-person rule. A request may
-- need several distinct approvers (approvals_required); every decision made
-- on it is kept, oldest first, as a JSON array of
-- {"by", "outcome", "note", "at"} objects ("at" in Unix nanoseconds).
-- decided_by, note and decided_at stay those of the decision that settled
-- the request.

ALTER TABLE tollgate_approvals ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 1
	CHECK (approvals_required BETWEEN 1 AND 10);
ALTER TABLE tollgate_approvals ADD COLUMN decisions TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(decisions) AND json_type(decisions) = 'array');

-- Requests decided before version 2 had exactly one decision.
UPDATE tollgate_approvals
	SET decisions = json_array(json_object('by', decided_by, 'outcome', outcome, 'note', note, 'at', decided_at))
	WHERE outcome <> 'deferred';
