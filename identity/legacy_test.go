package identity_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// demoKey is AGENT_SECRET from Tollgate's examples/security_hardened/demo.py;
// every signature in testdata/security_hardened_audit.jsonl verifies with it.
var demoKey = []byte("agent-signing-key-67890")

const demoSignature = "03e5b493c544854d42902934ab11cb30d4adcc879a33349cd2adb162583faa6d"

func demoAgent() tollgate.Agent {
	return tollgate.Agent{
		ID: "demo-agent", Version: "1.0.0", Owner: "demo-team",
		Metadata: tollgate.Params{{Key: "env", Value: "prod"}, {Key: "_signature", Value: demoSignature}},
	}
}

func verify(v identity.Verifier, a tollgate.Agent) (tollgate.Agent, error) {
	return v.Verify(context.Background(), identity.Credentials{Claimed: a})
}

// auditAgents reads the agent of every event in the Tollgate audit fixture.
func auditAgents(t *testing.T) []tollgate.Agent {
	t.Helper()
	f, err := os.Open("testdata/security_hardened_audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var agents []tollgate.Agent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Agent struct {
				AgentID     string          `json:"agent_id"`
				Version     string          `json:"version"`
				Owner       string          `json:"owner"`
				Metadata    tollgate.Params `json:"metadata"`
				DelegatedBy []string        `json:"delegated_by"`
			} `json:"agent"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		a := ev.Agent
		agents = append(agents, tollgate.Agent{ID: a.AgentID, Version: a.Version, Owner: a.Owner, Metadata: a.Metadata, DelegatedBy: a.DelegatedBy})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 34 {
		t.Fatalf("fixture has %d events, want 34", len(agents))
	}
	return agents
}

func TestLegacyHMACAuditFixtureVectors(t *testing.T) {
	v := identity.NewLegacyHMAC(demoKey)
	for i, claimed := range auditAgents(t) {
		sig, _ := claimed.Metadata.Get(identity.LegacySignatureKey)
		got, err := verify(v, claimed)
		if err != nil {
			t.Fatalf("event %d (%s): %v", i, claimed.ID, err)
		}
		if _, ok := got.Metadata.Get(identity.LegacySignatureKey); ok {
			t.Errorf("event %d: verified agent still carries the signature", i)
		}
		if got.ID != claimed.ID || !slices.Equal(got.DelegatedBy, claimed.DelegatedBy) {
			t.Errorf("event %d: verified agent %+v differs from claimed %+v", i, got, claimed)
		}
		unsigned := claimed
		unsigned.Metadata = claimed.Metadata.Without(identity.LegacySignatureKey)
		resigned, _ := identity.SignLegacy(unsigned, demoKey).Metadata.Get(identity.LegacySignatureKey)
		if resigned != sig {
			t.Errorf("event %d: SignLegacy = %v, fixture has %v", i, resigned, sig)
		}
	}
}

func TestSignLegacyGoldenVector(t *testing.T) {
	a := demoAgent()
	a.Metadata = tollgate.Params{{Key: "env", Value: "prod"}}
	signed := identity.SignLegacy(a, demoKey)
	want := tollgate.Params{{Key: "env", Value: "prod"}, {Key: "_signature", Value: demoSignature}}
	if !slices.Equal(signed.Metadata, want) {
		t.Fatalf("signed metadata = %v, want %v", signed.Metadata, want)
	}
	if len(a.Metadata) != 1 {
		t.Errorf("SignLegacy changed its input: %v", a.Metadata)
	}
}

func TestSignLegacyReplacesSignatureInPlace(t *testing.T) {
	a := demoAgent()
	a.Metadata = tollgate.Params{{Key: "_signature", Value: "stale"}, {Key: "env", Value: "prod"}}
	signed := identity.SignLegacy(a, demoKey)
	want := tollgate.Params{{Key: "_signature", Value: demoSignature}, {Key: "env", Value: "prod"}}
	if !slices.Equal(signed.Metadata, want) {
		t.Fatalf("signed metadata = %v, want %v", signed.Metadata, want)
	}
	if a.Metadata[0].Value != "stale" {
		t.Errorf("SignLegacy changed its input: %v", a.Metadata)
	}
}

func TestLegacyHMACAccepts(t *testing.T) {
	claimed := demoAgent()
	claimed.DelegatedBy = []string{"orchestrator"}
	got, err := verify(identity.NewLegacyHMAC(demoKey), claimed)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tollgate.Params{{Key: "env", Value: "prod"}}); !slices.Equal(got.Metadata, want) {
		t.Errorf("metadata = %v, want %v", got.Metadata, want)
	}
	if _, ok := claimed.Metadata.Get(identity.LegacySignatureKey); !ok {
		t.Error("Verify removed the signature from the caller's metadata")
	}
	got.DelegatedBy[0] = "changed"
	if claimed.DelegatedBy[0] != "orchestrator" {
		t.Error("verified agent shares its delegation chain with the claimed one")
	}
}

// An agent whose metadata is only its signature (as SignLegacy makes it
// from none) comes back with empty metadata that shares nothing writable,
// and costs no allocation: the verifier runs on every call.
func TestLegacyHMACSignatureOnlyMetadata(t *testing.T) {
	claimed := identity.SignLegacy(tollgate.Agent{ID: "demo-agent", Version: "1.0.0", Owner: "demo-team"}, demoKey)
	v := identity.NewLegacyHMAC(demoKey)
	got, err := verify(v, claimed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata == nil || len(got.Metadata) != 0 {
		t.Fatalf("metadata = %#v, want empty", got.Metadata)
	}
	got.Metadata = append(got.Metadata, tollgate.Field{Key: "role", Value: "admin"})
	if sig, _ := claimed.Metadata.Get(identity.LegacySignatureKey); len(claimed.Metadata) != 1 || sig == "admin" {
		t.Fatalf("appending to the verified metadata changed the claimed one: %v", claimed.Metadata)
	}
	if raceEnabled {
		t.Skip("allocation counts of pooled code are meaningless under -race")
	}
	ctx, c := context.Background(), identity.Credentials{Claimed: claimed}
	if n := testing.AllocsPerRun(100, func() { v.Verify(ctx, c) }); n != 0 {
		t.Errorf("Verify allocates %v times, want 0", n)
	}
}

// The legacy signature does not cover the delegation chain: Tollgate's
// fixture shows the same signature on worker-agent with and without one.
// This test pins that weakness so that nobody mistakes it for a guarantee.
func TestLegacyHMACDoesNotCoverDelegation(t *testing.T) {
	v := identity.NewLegacyHMAC(demoKey)
	a := demoAgent()
	for _, chain := range [][]string{nil, {"orchestrator"}, {"rogue", "router"}} {
		a.DelegatedBy = chain
		if _, err := verify(v, a); err != nil {
			t.Errorf("chain %v: %v", chain, err)
		}
	}
}

func TestLegacyHMACRejects(t *testing.T) {
	withSig := func(sig any) tollgate.Agent {
		a := demoAgent()
		a.Metadata = tollgate.Params{{Key: "_signature", Value: sig}}
		return a
	}
	tamper := func(f func(*tollgate.Agent)) tollgate.Agent {
		a := demoAgent()
		f(&a)
		return a
	}
	piped := identity.SignLegacy(tollgate.Agent{ID: "demo|agent", Version: "1.0.0", Owner: "demo-team"}, demoKey)
	// ("demo", "agent|1.0.0", owner) signs the same message as piped.
	shifted := piped
	shifted.ID, shifted.Version = "demo", "agent|1.0.0"
	nonASCII := strings.Repeat("é", 32) // 64 bytes, same length as a valid signature

	tests := []struct {
		name  string
		agent tollgate.Agent
		key   []byte
		want  error
	}{
		{"tampered agent_id", tamper(func(a *tollgate.Agent) { a.ID = "demo-agent2" }), demoKey, identity.ErrInvalid},
		{"tampered version", tamper(func(a *tollgate.Agent) { a.Version = "1.0.1" }), demoKey, identity.ErrInvalid},
		{"tampered owner", tamper(func(a *tollgate.Agent) { a.Owner = "other-team" }), demoKey, identity.ErrInvalid},
		{"wrong key", demoAgent(), []byte("agent-signing-key-67891"), identity.ErrInvalid},
		{"missing signature", tamper(func(a *tollgate.Agent) { a.Metadata = nil }), demoKey, identity.ErrNoCredentials},
		{"empty signature", withSig(""), demoKey, identity.ErrInvalid},
		{"number signature", withSig(json.Number("3")), demoKey, identity.ErrInvalid},
		{"bool signature", withSig(true), demoKey, identity.ErrInvalid},
		{"null signature", withSig(nil), demoKey, identity.ErrInvalid},
		{"list signature", withSig([]any{demoSignature}), demoKey, identity.ErrInvalid},
		{"object signature", withSig(tollgate.Params{{Key: "sig", Value: demoSignature}}), demoKey, identity.ErrInvalid},
		{"non-ASCII signature", withSig(nonASCII), demoKey, identity.ErrInvalid},
		{"invalid UTF-8 signature", withSig("\xff" + demoSignature[1:]), demoKey, identity.ErrInvalid},
		{"upper-case hex", withSig(strings.ToUpper(demoSignature)), demoKey, identity.ErrInvalid},
		{"trailing newline", withSig(demoSignature + "\n"), demoKey, identity.ErrInvalid},
		{"truncated", withSig(demoSignature[:63]), demoKey, identity.ErrInvalid},
		{"empty agent_id", identity.SignLegacy(tollgate.Agent{Version: "1", Owner: "o"}, demoKey), demoKey, identity.ErrInvalid},
		{"pipe in agent_id", piped, demoKey, identity.ErrInvalid},
		{"pipe in version (ambiguous twin)", shifted, demoKey, identity.ErrInvalid},
		{"pipe in owner", identity.SignLegacy(tollgate.Agent{ID: "a", Version: "1", Owner: "o|x"}, demoKey), demoKey, identity.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verify(identity.NewLegacyHMAC(tt.key), tt.agent)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got.ID != "" {
				t.Errorf("refused verification returned agent %+v", got)
			}
		})
	}
}

func TestLegacyHMACEmptySecretRefusesEverything(t *testing.T) {
	a := identity.SignLegacy(demoAgent(), nil)
	for _, key := range [][]byte{nil, {}} {
		_, err := verify(identity.NewLegacyHMAC(key), a)
		if err == nil {
			t.Fatal("empty secret accepted a signature")
		}
		if errors.Is(err, identity.ErrInvalid) || errors.Is(err, identity.ErrNoCredentials) {
			t.Errorf("misconfiguration reported as a caller error: %v", err)
		}
	}
}

func TestLegacyHMACCopiesSecret(t *testing.T) {
	key := []byte(string(demoKey))
	v := identity.NewLegacyHMAC(key)
	key[0] = 'X'
	if _, err := verify(v, demoAgent()); err != nil {
		t.Fatalf("changing the caller's key slice changed the verifier: %v", err)
	}
}

func TestLegacyHMACConcurrent(t *testing.T) {
	v := identity.NewLegacyHMAC(demoKey)
	good, bad := demoAgent(), demoAgent()
	bad.Owner = "intruder"
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 32 {
		wg.Go(func() {
			if _, err := verify(v, good); err != nil {
				errs <- "good: " + err.Error()
			}
			if _, err := verify(v, bad); !errors.Is(err, identity.ErrInvalid) {
				errs <- "bad accepted"
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func FuzzLegacyVerify(f *testing.F) {
	f.Add("demo-agent", "1.0.0", "demo-team", []byte(`{"_signature": "`+demoSignature+`"}`))
	f.Add("worker-agent", "1.0.0", "demo-team", []byte(`{"_signature": "625db5c47a8b4b3eff0bf339e905d87240d5675d5e68364e79812662f1765deb"}`))
	f.Add("a|b", "c", "o", []byte(`{"_signature": 5}`))
	f.Add("", "", "", []byte(`{"_signature": "\u00e9\u00e9"}`))
	f.Add("x", "y", "z", []byte(`{"_signature": null, "other": [1, {"a": true}]}`))
	f.Add("x", "y", "z", []byte(`not json`))
	v := identity.NewLegacyHMAC(demoKey)
	f.Fuzz(func(t *testing.T, id, version, owner string, metadata []byte) {
		a := tollgate.Agent{ID: id, Version: version, Owner: owner}
		if md, err := tollgate.ParseParams(metadata); err == nil {
			a.Metadata = md
		}
		got, err := verify(v, a)
		if err == nil {
			// Only a genuine signature may pass, and it must not leak.
			want, _ := identity.SignLegacy(a, demoKey).Metadata.Get(identity.LegacySignatureKey)
			if sig, _ := a.Metadata.Get(identity.LegacySignatureKey); sig != want {
				t.Fatalf("accepted signature %v, genuine is %v", sig, want)
			}
			if _, ok := got.Metadata.Get(identity.LegacySignatureKey); ok {
				t.Fatal("verified agent carries the signature")
			}
		} else if !errors.Is(err, identity.ErrInvalid) && !errors.Is(err, identity.ErrNoCredentials) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		// A freshly signed agent verifies unless its fields are refused.
		_, err = verify(v, identity.SignLegacy(a, demoKey))
		refused := id == "" || strings.Contains(id+version+owner, "|")
		if (err != nil) != refused {
			t.Fatalf("signed agent %q|%q|%q: err = %v, refused = %v", id, version, owner, err, refused)
		}
	})
}

func BenchmarkLegacyVerify(b *testing.B) {
	v := identity.NewLegacyHMAC(demoKey)
	c := identity.Credentials{Claimed: demoAgent()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}
