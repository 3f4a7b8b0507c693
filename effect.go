package tollgate

// Effect is what a tool does to the world. Only the manifest decides a tool's
// effect; callers never do.
type Effect string

// The five Tollgate effects. Their wire values are lower-case.
const (
	EffectRead    Effect = "read"
	EffectWrite   Effect = "write"
	EffectDelete  Effect = "delete"
	EffectNotify  Effect = "notify"
	EffectUnknown Effect = "unknown"
)

// ParseEffect returns the Effect whose wire value is exactly s. Matching is
// case-sensitive, as in Tollgate: "READ" is not an effect.
func ParseEffect(s string) (Effect, bool) {
	switch e := Effect(s); e {
	case EffectRead, EffectWrite, EffectDelete, EffectNotify, EffectUnknown:
		return e, true
	}
	return EffectUnknown, false
}

// String returns the wire value.
func (e Effect) String() string { return string(e) }
