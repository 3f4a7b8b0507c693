package admin

import (
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
)

// approvalMessage renders a stored request for an admin at now: params and
// metadata redacted by r (they may hold secrets the admin has no need to
// see), the legacy signature never included.
func approvalMessage(rec approvals.Record, now time.Time, r *audit.Redactor) *adminv1.Approval {
	req := &rec.Request
	return &adminv1.Approval{
		Id: text(req.ID),
		Agent: &adminv1.Agent{
			AgentId:      text(req.Agent.ID),
			Version:      text(req.Agent.Version),
			Owner:        text(req.Agent.Owner),
			DelegatedBy:  texts(req.Agent.DelegatedBy),
			MetadataJson: jsonText(r.Params(req.Agent.Metadata.Without(identity.LegacySignatureKey))),
		},
		Intent: &adminv1.Intent{
			Action:       text(req.Intent.Action),
			Reason:       text(r.Text(req.Intent.Reason)), // free text may hold secrets too
			Confidence:   req.Intent.Confidence,
			MetadataJson: jsonText(r.Params(req.Intent.Metadata)),
		},
		ToolRequest: &adminv1.ToolRequest{
			Tool:            text(req.ToolRequest.Tool),
			Action:          text(req.ToolRequest.Action),
			ResourceType:    text(req.ToolRequest.ResourceType),
			Effect:          text(string(req.ToolRequest.Effect)),
			ParamsJson:      jsonText(r.Params(req.ToolRequest.Params)),
			MetadataJson:    jsonText(r.Params(req.ToolRequest.Metadata)),
			ManifestVersion: text(req.ToolRequest.ManifestVersion),
		},
		RequestHash: text(req.RequestHash),
		Reason:      text(req.Reason),
		PolicyId:    text(req.PolicyID),
		CreatedAt:   timestamp(rec.CreatedAt),
		ExpiresAt:   timestamp(req.ExpiresAt),
		Expired:     !now.Before(req.ExpiresAt),
		Outcome:     outcomeMessage(rec.Outcome),
		DecidedBy:   text(rec.DecidedBy),
		DecidedAt:   timestamp(rec.DecidedAt),
		Note:        text(rec.Note),
		UsedAt:      timestamp(rec.UsedAt),

		ApprovalsRequired: int32(req.Required()),
		Decisions:         decisionMessages(rec.Decisions),
	}
}

func decisionMessages(list []approvals.Decision) []*adminv1.Decision {
	out := make([]*adminv1.Decision, len(list))
	for i, d := range list {
		out[i] = &adminv1.Decision{By: text(d.By), Outcome: outcomeMessage(d.Outcome), Note: text(d.Note), At: timestamp(d.At)}
	}
	return out
}

func outcomeMessage(o approvals.Outcome) adminv1.Outcome {
	switch o {
	case approvals.OutcomeDeferred:
		return adminv1.Outcome_OUTCOME_PENDING
	case approvals.OutcomeApproved:
		return adminv1.Outcome_OUTCOME_APPROVED
	case approvals.OutcomeDenied:
		return adminv1.Outcome_OUTCOME_DENIED
	}
	return adminv1.Outcome_OUTCOME_UNSPECIFIED
}

func grantMessage(g grants.Grant, now time.Time) *adminv1.Grant {
	return &adminv1.Grant{
		Id:           text(g.ID),
		AgentId:      text(g.AgentID),
		Effect:       text(string(g.Effect)),
		Tool:         text(g.Tool),
		Action:       text(g.Action),
		ResourceType: text(g.ResourceType),
		ExpiresAt:    timestamp(g.ExpiresAt),
		CreatedAt:    timestamp(g.CreatedAt),
		GrantedBy:    text(g.GrantedBy),
		Reason:       text(g.Reason),
		MaxUses:      int32(min(g.MaxUses, maxInt32)),
		Uses:         int32(min(g.Uses, maxInt32)),
		Revoked:      g.Revoked,
		Active:       g.Active(now),
	}
}

const maxInt32 = 1<<31 - 1

// text makes s valid UTF-8, as proto strings must be: stored values may
// come from headers that allow any byte, and one such value must not make
// every list that includes it fail to marshal.
func text(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func texts(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = text(s)
	}
	return out
}

// timestamp is nil for the zero time, so that "not yet" is absent rather
// than year 1.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// jsonText renders p as compact JSON in its own key order ("{}" when
// empty). Stored params came from JSON, so they always marshal; should one
// not, the admin sees that rather than a silently empty object.
func jsonText(p tollgate.Params) string {
	b, err := p.MarshalJSON()
	if err != nil {
		return `{"error": "unrenderable value"}`
	}
	return string(b)
}
