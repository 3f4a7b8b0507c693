package tollgate

// Agent says who is calling. Inside the pipeline an Agent always comes from a
// verified credential (package identity); a caller-built Agent is only trusted
// when no verifier is configured.
type Agent struct {
	ID      string // agent_id
	Version string
	Owner   string
	// DelegatedBy is the delegation chain, root first: DelegatedBy[0] started
	// the chain and the last element delegated directly to this agent.
	DelegatedBy []string
	// Metadata is free-form. Policy rules read agent.environment and
	// agent.role from it.
	Metadata Params
	// SessionID is the verified token's "sid" claim: the session the token
	// was minted for, empty when the credentials name none. Kill switches
	// of scope session:SID read it. It is not part of Tollgate's agent
	// record: policy rules, request hashes and audit lines do not see it.
	SessionID string
}

// Clone returns a deep copy of a, sharing no memory with it, for code that
// keeps an Agent while handing copies to code that may change them.
func (a Agent) Clone() Agent {
	if a.DelegatedBy != nil {
		a.DelegatedBy = append([]string(nil), a.DelegatedBy...)
	}
	a.Metadata = a.Metadata.Clone()
	return a
}

// Depth is the length of the delegation chain (0 for a direct call).
func (a Agent) Depth() int { return len(a.DelegatedBy) }

// IsDelegated reports whether another agent delegated this call.
func (a Agent) IsDelegated() bool { return len(a.DelegatedBy) > 0 }

// RootAgent is the agent that started the chain: DelegatedBy[0] when
// delegated, otherwise the agent itself.
func (a Agent) RootAgent() string {
	if len(a.DelegatedBy) > 0 {
		return a.DelegatedBy[0]
	}
	return a.ID
}

// Intent says why the agent makes the call.
type Intent struct {
	Action string
	Reason string
	// Confidence is optional (nil when the agent gave none).
	Confidence *float64
	Metadata   Params
}
