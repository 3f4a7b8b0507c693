package killswitch

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxReasonLen bounds a switch's reason and SetBy, in bytes.
const MaxReasonLen = 1024

// Switch refuses every call in its Scope, with reason KILLED, until it is
// lifted or expires.
type Switch struct {
	ID     string // assigned by the store when empty (a random UUIDv4)
	Scope  Scope
	Reason string // required: why, for the refused caller's operator and the audit trail
	SetBy  string // who set it (the admin API records the verified caller)
	SetAt  time.Time
	// ExpiresAt is when the switch lifts itself; zero means it stays until
	// lifted. A switch is in force while now is before ExpiresAt.
	ExpiresAt time.Time
}

// InForce reports whether s refuses calls at now.
func (s *Switch) InForce(now time.Time) bool {
	return s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt)
}

// ErrInvalidSwitch is wrapped by the errors Validate returns.
var ErrInvalidSwitch = errors.New("killswitch: invalid switch")

// Validate reports a switch a store must refuse: an invalid scope, no
// reason, a reason or SetBy over MaxReasonLen or not UTF-8, or an expiry
// not after SetAt.
func (s Switch) Validate() error {
	if err := s.Scope.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSwitch, err)
	}
	if strings.TrimSpace(s.Reason) == "" {
		return fmt.Errorf("%w: a reason is required: the refused callers' operators and the audit trail read it", ErrInvalidSwitch)
	}
	for _, f := range []struct{ name, value string }{{"reason", s.Reason}, {"set_by", s.SetBy}} {
		if len(f.value) > MaxReasonLen || !utf8.ValidString(f.value) {
			return fmt.Errorf("%w: %s must be UTF-8 text of at most %d bytes", ErrInvalidSwitch, f.name, MaxReasonLen)
		}
	}
	if !s.ExpiresAt.IsZero() && !s.SetAt.IsZero() && !s.ExpiresAt.After(s.SetAt) {
		return fmt.Errorf("%w: expires at %s, not after it was set (%s)", ErrInvalidSwitch,
			s.ExpiresAt.UTC().Format(time.RFC3339), s.SetAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// compare orders switches by SetAt, then ID: the order List returns and
// the order in which a Matcher reports the first switch in force.
func compare(a, b *Switch) int {
	if c := a.SetAt.Compare(b.SetAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
