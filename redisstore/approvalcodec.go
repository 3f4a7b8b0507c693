package redisstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
)

// wireRequest is the stored JSON form of an approvals.Request. Its field
// names are fixed here, not derived from the Go structs, so renaming a Go
// field cannot silently orphan stored records.
type wireRequest struct {
	ID          string     `json:"id"`
	Agent       wireAgent  `json:"agent"`
	Intent      wireIntent `json:"intent"`
	Tool        wireTool   `json:"tool_request"`
	RequestHash string     `json:"request_hash,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	PolicyID    string     `json:"policy_id,omitempty"`
	ExpiresAt   time.Time  `json:"expires_at"`
}

type wireAgent struct {
	ID          string          `json:"agent_id"`
	Version     string          `json:"version,omitempty"`
	Owner       string          `json:"owner,omitempty"`
	DelegatedBy []string        `json:"delegated_by,omitempty"`
	Metadata    tollgate.Params `json:"metadata,omitempty"`
}

type wireIntent struct {
	Action     string          `json:"action,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Confidence *float64        `json:"confidence,omitempty"`
	Metadata   tollgate.Params `json:"metadata,omitempty"`
}

type wireTool struct {
	Tool            string          `json:"tool"`
	Action          string          `json:"action,omitempty"`
	ResourceType    string          `json:"resource_type,omitempty"`
	Effect          tollgate.Effect `json:"effect,omitempty"`
	Params          tollgate.Params `json:"params,omitempty"`
	Metadata        tollgate.Params `json:"metadata,omitempty"`
	ManifestVersion string          `json:"manifest_version,omitempty"`
}

// encodeRequest returns r as stored JSON, its params and metadata passed
// through red. It decodes the result again so that a request Get could not
// read back (a value nested deeper than tollgate.MaxDepth, a value
// encoding/json cannot write) is refused now, by Create, rather than
// stored and found unreadable later.
func encodeRequest(r approvals.Request, red *audit.Redactor) (string, error) {
	a, in, t := r.Agent, r.Intent, r.ToolRequest
	data, err := json.Marshal(wireRequest{
		ID:          r.ID,
		Agent:       wireAgent{a.ID, a.Version, a.Owner, a.DelegatedBy, red.Params(a.Metadata)},
		Intent:      wireIntent{in.Action, in.Reason, in.Confidence, red.Params(in.Metadata)},
		Tool:        wireTool{t.Tool, t.Action, t.ResourceType, t.Effect, red.Params(t.Params), red.Params(t.Metadata), t.ManifestVersion},
		RequestHash: r.RequestHash, Reason: r.Reason, PolicyID: r.PolicyID, ExpiresAt: r.ExpiresAt,
	})
	if err != nil {
		return "", fmt.Errorf("%w: cannot store it: %v", approvals.ErrInvalidRequest, err)
	}
	if _, err := decodeRequest(string(data)); err != nil {
		return "", fmt.Errorf("%w: cannot store it: %v", approvals.ErrInvalidRequest, err)
	}
	return string(data), nil
}

func decodeRequest(data string) (approvals.Request, error) {
	var w wireRequest
	if err := json.Unmarshal([]byte(data), &w); err != nil {
		return approvals.Request{}, err
	}
	return approvals.Request{
		ID:          w.ID,
		Agent:       tollgate.Agent{ID: w.Agent.ID, Version: w.Agent.Version, Owner: w.Agent.Owner, DelegatedBy: w.Agent.DelegatedBy, Metadata: w.Agent.Metadata},
		Intent:      tollgate.Intent{Action: w.Intent.Action, Reason: w.Intent.Reason, Confidence: w.Intent.Confidence, Metadata: w.Intent.Metadata},
		ToolRequest: tollgate.ToolRequest{Tool: w.Tool.Tool, Action: w.Tool.Action, ResourceType: w.Tool.ResourceType, Effect: w.Tool.Effect, Params: w.Tool.Params, Metadata: w.Tool.Metadata, ManifestVersion: w.Tool.ManifestVersion},
		RequestHash: w.RequestHash, Reason: w.Reason, PolicyID: w.PolicyID, ExpiresAt: w.ExpiresAt,
	}, nil
}

// approvalFields are the fields of an approval hash, in the order scripts
// and HMGET return them. "expires" repeats the request's ExpiresAt as a
// time key for the scripts; "decided" and "used" are "" until they happen.
// "required" (Request.Required) and "decisions" (a JSON array of
// wireDecision) are missing from records written before they existed.
var approvalFields = [...]string{"request", "binding", "created", "expires", "outcome", "by", "note", "decided", "used", "required", "decisions"}

// legacyFields is how many of approvalFields every record has.
const legacyFields = 9

// wireDecision is one element of the "decisions" field.
type wireDecision struct {
	By      string `json:"by"`
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
	At      string `json:"at"` // a time key
}

func encodeDecision(d approvals.Decision) (string, error) {
	data, err := json.Marshal(wireDecision{By: d.By, Outcome: string(d.Outcome), Note: d.Note, At: timeKey(d.At)})
	return string(data), err
}

func decodeDecisions(data string) ([]approvals.Decision, error) {
	var in []wireDecision
	if err := json.Unmarshal([]byte(data), &in); err != nil {
		return nil, err
	}
	var out []approvals.Decision
	for _, w := range in {
		at, err := parseTimeKey(w.At)
		if err != nil {
			return nil, err
		}
		out = append(out, approvals.Decision{By: w.By, Outcome: approvals.Outcome(w.Outcome), Note: w.Note, At: at})
	}
	return out, nil
}

// decodeRecord decodes the values of approvalFields, in order.
func decodeRecord(id string, vals []any) (approvals.Record, error) {
	if len(vals) != len(approvalFields) {
		return approvals.Record{}, fmt.Errorf("redisstore: approval %q: record has %d fields, want %d", id, len(vals), len(approvalFields))
	}
	var f [len(approvalFields)]string
	for i, v := range vals {
		s, ok := v.(string)
		if !ok && !(v == nil && i >= legacyFields) {
			return approvals.Record{}, fmt.Errorf("redisstore: approval %q: field %q is %T, want a string (record damaged?)", id, approvalFields[i], v)
		}
		f[i] = s
	}
	bad := func(field string, err error) (approvals.Record, error) {
		return approvals.Record{}, fmt.Errorf("redisstore: approval %q: field %q: %w", id, field, err)
	}
	rec := approvals.Record{BindingHash: f[1], Outcome: approvals.Outcome(f[4]), DecidedBy: f[5], Note: f[6]}
	var err error
	if rec.Request, err = decodeRequest(f[0]); err != nil {
		return bad("request", err)
	}
	if rec.CreatedAt, err = parseTimeKey(f[2]); err != nil {
		return bad("created", err)
	}
	if rec.DecidedAt, err = parseOptionalTimeKey(f[7]); err != nil {
		return bad("decided", err)
	}
	if rec.UsedAt, err = parseOptionalTimeKey(f[8]); err != nil {
		return bad("used", err)
	}
	if f[9] != "" {
		n, err := strconv.Atoi(f[9])
		if err != nil {
			return bad("required", err)
		}
		if n > 1 { // 1 is also what an unset 0 is stored as
			rec.Request.ApprovalsRequired = n
		}
	}
	switch {
	case f[10] != "":
		if rec.Decisions, err = decodeDecisions(f[10]); err != nil {
			return bad("decisions", err)
		}
	case !rec.Pending(): // decided before decision lists: its one decision
		rec.Decisions = []approvals.Decision{{Outcome: rec.Outcome, By: rec.DecidedBy, Note: rec.Note, At: rec.DecidedAt}}
	}
	return rec, nil
}
