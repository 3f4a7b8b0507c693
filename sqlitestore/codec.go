package sqlitestore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
)

// storedRequest is the JSON form of an approvals.Request in the request
// column. Its field names are a stored format: rename nothing, add fields
// only with omitempty. Params are pointers so that a nil object stays nil
// (it hashes differently from an empty one).
type storedRequest struct {
	Agent       storedAgent  `json:"agent"`
	Intent      storedIntent `json:"intent"`
	ToolRequest storedTool   `json:"tool_request"`
	RequestHash string       `json:"request_hash,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	PolicyID    string       `json:"policy_id,omitempty"`
}

type storedAgent struct {
	ID          string           `json:"id"`
	Version     string           `json:"version,omitempty"`
	Owner       string           `json:"owner,omitempty"`
	DelegatedBy []string         `json:"delegated_by,omitempty"`
	Metadata    *tollgate.Params `json:"metadata,omitempty"`
}

type storedIntent struct {
	Action     string           `json:"action,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Confidence *float64         `json:"confidence,omitempty"`
	Metadata   *tollgate.Params `json:"metadata,omitempty"`
}

type storedTool struct {
	Tool            string           `json:"tool"`
	Action          string           `json:"action,omitempty"`
	ResourceType    string           `json:"resource_type,omitempty"`
	Effect          string           `json:"effect,omitempty"`
	Params          *tollgate.Params `json:"params,omitempty"`
	Metadata        *tollgate.Params `json:"metadata,omitempty"`
	ManifestVersion string           `json:"manifest_version,omitempty"`
}

// encodeRequest returns the JSON stored for r, with every params and
// metadata object passed through red. It decodes its own output before
// returning, so that a request that could not be read back (numbers that
// are not JSON, nesting deeper than tollgate.MaxDepth) is refused at Create
// instead of breaking Get later.
func encodeRequest(r approvals.Request, red *audit.Redactor) ([]byte, error) {
	redacted := func(p tollgate.Params) *tollgate.Params {
		if p == nil {
			return nil
		}
		p = red.Params(p)
		return &p
	}
	data, err := json.Marshal(storedRequest{
		Agent: storedAgent{
			ID: r.Agent.ID, Version: r.Agent.Version, Owner: r.Agent.Owner,
			DelegatedBy: r.Agent.DelegatedBy, Metadata: redacted(r.Agent.Metadata),
		},
		Intent: storedIntent{
			Action: r.Intent.Action, Reason: r.Intent.Reason, Confidence: r.Intent.Confidence,
			Metadata: redacted(r.Intent.Metadata),
		},
		ToolRequest: storedTool{
			Tool: r.ToolRequest.Tool, Action: r.ToolRequest.Action, ResourceType: r.ToolRequest.ResourceType,
			Effect: string(r.ToolRequest.Effect), Params: redacted(r.ToolRequest.Params),
			Metadata: redacted(r.ToolRequest.Metadata), ManifestVersion: r.ToolRequest.ManifestVersion,
		},
		RequestHash: r.RequestHash, Reason: r.Reason, PolicyID: r.PolicyID,
	})
	if err == nil {
		_, err = decodeRequest(data, r.ID, r.ExpiresAt)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot be stored: %v", approvals.ErrInvalidRequest, err)
	}
	return data, nil
}

// decodeRequest is the inverse of encodeRequest; id and expiry live in
// their own columns.
func decodeRequest(data []byte, id string, expiresAt time.Time) (approvals.Request, error) {
	var s storedRequest
	if err := json.Unmarshal(data, &s); err != nil {
		return approvals.Request{}, err
	}
	params := func(p *tollgate.Params) tollgate.Params {
		if p == nil {
			return nil
		}
		return *p
	}
	return approvals.Request{
		ID: id,
		Agent: tollgate.Agent{
			ID: s.Agent.ID, Version: s.Agent.Version, Owner: s.Agent.Owner,
			DelegatedBy: s.Agent.DelegatedBy, Metadata: params(s.Agent.Metadata),
		},
		Intent: tollgate.Intent{
			Action: s.Intent.Action, Reason: s.Intent.Reason, Confidence: s.Intent.Confidence,
			Metadata: params(s.Intent.Metadata),
		},
		ToolRequest: tollgate.ToolRequest{
			Tool: s.ToolRequest.Tool, Action: s.ToolRequest.Action, ResourceType: s.ToolRequest.ResourceType,
			Effect: tollgate.Effect(s.ToolRequest.Effect), Params: params(s.ToolRequest.Params),
			Metadata: params(s.ToolRequest.Metadata), ManifestVersion: s.ToolRequest.ManifestVersion,
		},
		RequestHash: s.RequestHash, Reason: s.Reason, PolicyID: s.PolicyID,
		ExpiresAt: expiresAt,
	}, nil
}
