package identity_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

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

// An agent mints short-lived tokens with a Signer (on the client, usually
// as interceptor.WithTokenSource(signer.Token)); the service verifies them
// against the agent's public key, published as a JWKS.
func ExampleNewSigner() {
	// Both sides use a fixed clock here so the output is stable.
	now := func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // tollgate keygen writes a real one
	kid := identity.KeyID(priv.Public().(ed25519.PublicKey))

	// Client: worker-agent, delegated by orchestrator (the root) via router.
	agent := tollgate.Agent{ID: "worker-agent", Version: "2.1.0", Owner: "ops-team", DelegatedBy: []string{"orchestrator", "router"}}
	signer, err := identity.NewSigner(priv, kid, agent,
		identity.WithAudience("tickets-service"), identity.WithTTL(5*time.Minute), identity.WithClock(now))
	if err != nil {
		panic(err)
	}
	token, _ := signer.Token(context.Background())

	// Server: the key set would normally be identity.NewJWKSFile("agents.jwks.json").
	keys, _ := identity.NewKeySet(identity.Key{ID: kid, Public: priv.Public()})
	verifier, err := identity.NewJWTVerifier(keys, identity.WithAudience("tickets-service"), identity.WithClock(now))
	if err != nil {
		panic(err)
	}
	creds := identity.Credentials{Header: map[string][]string{"authorization": {"Bearer " + token}}}
	got, err := verifier.Verify(context.Background(), creds)
	fmt.Println(got.ID, got.Version, got.Owner, err)
	fmt.Println("delegated by:", got.DelegatedBy, "root:", got.RootAgent())

	// The same token for another service is refused.
	other, _ := identity.NewJWTVerifier(keys, identity.WithAudience("billing-service"), identity.WithClock(now))
	_, err = other.Verify(context.Background(), creds)
	fmt.Println("billing-service refuses:", errors.Is(err, identity.ErrInvalid))
	// Output:
	// worker-agent 2.1.0 ops-team <nil>
	// delegated by: [orchestrator router] root: orchestrator
	// billing-service refuses: true
}

// Chain tries verifiers in order: a migration accepts tokens and, until
// every agent has moved, legacy signatures. A call with neither is refused.
func ExampleChain() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	keys, _ := identity.NewKeySet(identity.Key{ID: "k1", Public: priv.Public()})
	tokens, _ := identity.NewJWTVerifier(keys, identity.WithAudience("tickets-service"))
	legacyKey := []byte("agent-signing-key-67890")
	v := identity.Chain(tokens, identity.NewLegacyHMAC(legacyKey))

	legacy := identity.SignLegacy(tollgate.Agent{ID: "old-agent", Version: "1", Owner: "ops"}, legacyKey)
	a, err := v.Verify(context.Background(), identity.Credentials{Claimed: legacy})
	fmt.Println("legacy:", a.ID, err)

	_, err = v.Verify(context.Background(), identity.Credentials{Claimed: tollgate.Agent{ID: "anonymous"}})
	fmt.Println("no credentials refused:", errors.Is(err, identity.ErrNoCredentials))
	// Output:
	// legacy: old-agent <nil>
	// no credentials refused: true
}
