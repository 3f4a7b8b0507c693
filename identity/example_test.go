package identity_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

func ExampleNewLegacyHMAC() {
	key := []byte("agent-signing-key-67890")
	claimed := identity.SignLegacy(tollgate.Agent{ID: "demo-agent", Version: "1.0.0", Owner: "demo-team"}, key)
	sig, _ := claimed.Metadata.Get(identity.LegacySignatureKey)
	fmt.Println("signature:", sig)

	v := identity.NewLegacyHMAC(key)
	agent, err := v.Verify(context.Background(), identity.Credentials{Claimed: claimed})
	fmt.Println("verified:", agent.ID, err, "metadata:", len(agent.Metadata))

	claimed.Owner = "other-team"
	_, err = v.Verify(context.Background(), identity.Credentials{Claimed: claimed})
	fmt.Println("tampered invalid:", errors.Is(err, identity.ErrInvalid))
	// Output:
	// signature: 03e5b493c544854d42902934ab11cb30d4adcc879a33349cd2adb162583faa6d
	// verified: demo-agent <nil> metadata: 0
	// tampered invalid: true
}

func ExampleNewContext() {
	ctx := identity.NewContext(context.Background(), tollgate.Agent{ID: "demo-agent"})
	if a, ok := identity.FromContext(ctx); ok {
		fmt.Println(a.ID)
	}
	// Output: demo-agent
}
