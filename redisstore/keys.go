package redisstore

// keySpace names the keys and channels of one Store. Every grant key
// carries the hash tag {grants} and every approval key {approvals}, so that
// the keys one script touches (including those it derives from record
// fields) sit in one Redis Cluster slot. The cost is that each kind of
// state lives on one shard, which the volumes of grants and approvals allow.
type keySpace struct {
	grant       string // + grant ID: hash of one grant
	grantOrder  string // sorted set of every grant, in grants.Compare order
	grantExpiry string // sorted set of every grant, by ExpiresAt
	grantLive   string // + agent ID: grants of that agent still usable

	approval          string // + request ID: hash of one approval request
	approvalOrder     string // sorted set of request IDs, by creation
	approvalDeadlines string // sorted set of request IDs, by key deadline
	approvalSeq       string // counter giving the creation order
	decided           string // + request ID: channel announcing its decision

	replay string // + jti: marker of a used token

	killSwitches string // hash of kill switch id → record (JSON)
	killExpiry   string // hash of kill switch id → expiry time key, for switches that expire
	killChanged  string // channel announcing a change to the kill switches
}

func newKeySpace(prefix string) keySpace {
	return keySpace{
		grant:             prefix + "{grants}:grant:",
		grantOrder:        prefix + "{grants}:order",
		grantExpiry:       prefix + "{grants}:expiry",
		grantLive:         prefix + "{grants}:live:",
		approval:          prefix + "{approvals}:request:",
		approvalOrder:     prefix + "{approvals}:order",
		approvalDeadlines: prefix + "{approvals}:deadlines",
		approvalSeq:       prefix + "{approvals}:seq",
		decided:           prefix + "approvals:decided:",
		replay:            prefix + "jti:",
		killSwitches:      prefix + "{killswitches}:switches",
		killExpiry:        prefix + "{killswitches}:expiry",
		killChanged:       prefix + "killswitches:changed",
	}
}

// GrantKey returns the name of the hash that holds grant id.
func (s *Store) GrantKey(id string) string { return s.keys.grant + id }

// ApprovalKey returns the name of the hash that holds approval request id.
func (s *Store) ApprovalKey(id string) string { return s.keys.approval + id }

// DecisionChannel returns the pub/sub channel on which the decision on
// approval request id is announced.
func (s *Store) DecisionChannel(id string) string { return s.keys.decided + id }

// ReplayKey returns the name of the key that marks token jti as used.
func (s *Store) ReplayKey(jti string) string { return s.keys.replay + jti }
