package identity_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// fixed returns a verifier that counts its calls and always answers the same.
func fixed(id string, err error, calls *int) identity.Verifier {
	return identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) {
		*calls++
		if err != nil {
			return tollgate.Agent{}, err
		}
		return tollgate.Agent{ID: id}, nil
	})
}

func TestChain(t *testing.T) {
	none := fmt.Errorf("%w: no token", identity.ErrNoCredentials)
	bad := fmt.Errorf("%w: bad token", identity.ErrInvalid)
	boom := errors.New("key server down")
	tests := []struct {
		name      string
		results   []error // nil means "accept as agent-<index>"
		wantID    string
		wantErr   error
		wantCalls []int
	}{
		{"first accepts", []error{nil, nil}, "agent-0", nil, []int{1, 0}},
		{"falls through no credentials", []error{none, nil}, "agent-1", nil, []int{1, 1}},
		{"invalid stops the chain", []error{bad, nil}, "", identity.ErrInvalid, []int{1, 0}},
		{"other error stops the chain", []error{none, boom, nil}, "", boom, []int{1, 1, 0}},
		{"all without credentials", []error{none, none}, "", identity.ErrNoCredentials, []int{1, 1}},
		{"empty chain", nil, "", identity.ErrNoCredentials, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make([]int, len(tt.results))
			vs := make([]identity.Verifier, len(tt.results))
			for i, err := range tt.results {
				vs[i] = fixed(fmt.Sprintf("agent-%d", i), err, &calls[i])
			}
			got, err := identity.Chain(vs...).Verify(context.Background(), identity.Credentials{})
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got.ID != tt.wantID {
				t.Errorf("agent = %q, want %q", got.ID, tt.wantID)
			}
			for i := range calls {
				if calls[i] != tt.wantCalls[i] {
					t.Errorf("verifier %d called %d times, want %d", i, calls[i], tt.wantCalls[i])
				}
			}
		})
	}
}

func TestChainNilVerifierFailsClosed(t *testing.T) {
	var calls int
	_, err := identity.Chain(nil, fixed("a", nil, &calls)).Verify(context.Background(), identity.Credentials{})
	if err == nil || calls != 0 {
		t.Fatalf("err = %v, calls = %d; want an error before any verifier runs", err, calls)
	}
}

func TestChainWithLegacy(t *testing.T) {
	var tokenCalls int
	token := fixed("token-agent", nil, &tokenCalls)
	v := identity.Chain(identity.NewLegacyHMAC(demoKey), token)
	ctx := context.Background()

	got, err := v.Verify(ctx, identity.Credentials{Claimed: demoAgent()})
	if err != nil || got.ID != "demo-agent" || tokenCalls != 0 {
		t.Fatalf("signed agent: %+v, %v, token calls %d", got, err, tokenCalls)
	}
	forged := demoAgent()
	forged.Owner = "root"
	if _, err := v.Verify(ctx, identity.Credentials{Claimed: forged}); !errors.Is(err, identity.ErrInvalid) || tokenCalls != 0 {
		t.Fatalf("forged signature: err = %v, token calls %d; want ErrInvalid without fall-through", err, tokenCalls)
	}
	got, err = v.Verify(ctx, identity.Credentials{Claimed: tollgate.Agent{ID: "unsigned"}})
	if err != nil || got.ID != "token-agent" || tokenCalls != 1 {
		t.Fatalf("unsigned agent: %+v, %v, token calls %d; want the token verifier to decide", got, err, tokenCalls)
	}
}

// The verifiers of this package composed: a call with no credentials of
// any kind is refused, and bad credentials of one kind never fall through
// to another.
func TestChainOfRealVerifiersRefusesAnonymous(t *testing.T) {
	v := identity.Chain(newVerifier(t, fixedAt(t0)), spiffeVerifier(t), identity.NewLegacyHMAC(demoKey))
	ctx := context.Background()
	for name, c := range map[string]identity.Credentials{
		"nothing":                {},
		"unsigned claimed agent": {Claimed: tollgate.Agent{ID: "admin-agent", Version: "1", Owner: "root"}},
		"other headers only":     {Header: map[string][]string{"x-tollgate-intent-action": {"read"}}},
	} {
		got, err := v.Verify(ctx, c)
		if !errors.Is(err, identity.ErrNoCredentials) || got.ID != "" {
			t.Errorf("%s: %+v, %v; want refused with ErrNoCredentials", name, got, err)
		}
	}

	// A bad token stops the chain even though a valid legacy signature
	// follows.
	bad := bearer(signRaw(foreignKey, edHeader, payload("")))
	bad.Claimed = demoAgent()
	if _, err := v.Verify(ctx, bad); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("bad token with a good legacy signature: err = %v, want ErrInvalid", err)
	}
	got, err := v.Verify(ctx, bearer(mint(t, workerAgent())))
	if err != nil || got.ID != "worker-agent" {
		t.Fatalf("token: %+v, %v", got, err)
	}
	got, err = v.Verify(ctx, identity.Credentials{Claimed: demoAgent()})
	if err != nil || got.ID != "demo-agent" {
		t.Fatalf("legacy: %+v, %v", got, err)
	}
}
