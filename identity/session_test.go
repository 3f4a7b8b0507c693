package identity_test

import (
	"context"
	"strings"
	"testing"
)

// A signer writes the agent's SessionID as "sid", and the verifier gives
// it back on the agent (kill switches of scope session:SID read it);
// tokens without one verify with none.
func TestSessionIDClaim(t *testing.T) {
	v := newVerifier(t, fixedAt(t0))
	a := workerAgent()
	a.SessionID = "sess-7f3a"
	token := mint(t, a)
	if claims := decodeSegment(t, strings.Split(token, ".")[1]); claims["sid"] != "sess-7f3a" {
		t.Fatalf("sid claim = %v, want sess-7f3a", claims["sid"])
	}
	got, err := v.Verify(context.Background(), bearer(token))
	if err != nil || got.SessionID != "sess-7f3a" {
		t.Fatalf("Verify = %+v, %v; want SessionID sess-7f3a", got, err)
	}
	c, err := v.VerifyToken(context.Background(), token)
	if err != nil || c.Agent.SessionID != "sess-7f3a" {
		t.Fatalf("VerifyToken agent = %+v, %v", c.Agent, err)
	}
	// From the verified-token cache too.
	if again, _ := v.Verify(context.Background(), bearer(token)); again.SessionID != "sess-7f3a" {
		t.Errorf("second Verify (cached) SessionID = %q", again.SessionID)
	}

	plain := mint(t, workerAgent())
	if claims := decodeSegment(t, strings.Split(plain, ".")[1]); claims["sid"] != nil {
		t.Errorf("token without a session carries sid %v", claims["sid"])
	}
	if got, err := v.Verify(context.Background(), bearer(plain)); err != nil || got.SessionID != "" {
		t.Errorf("Verify = %+v, %v; want no SessionID", got, err)
	}
}
