package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-go/tollgate"
)

// Chain returns a Verifier that tries verifiers in order. The first one
// whose error is not ErrNoCredentials decides: its Agent or its error is the
// result. When every verifier reports ErrNoCredentials (or there are none)
// the result wraps ErrNoCredentials, so an anonymous call is refused.
//
// A verifier that finds bad credentials stops the chain: a caller cannot
// present a forged legacy signature and fall through to a weaker check.
func Chain(verifiers ...Verifier) Verifier {
	vs := append([]Verifier(nil), verifiers...)
	return VerifierFunc(func(ctx context.Context, c Credentials) (tollgate.Agent, error) {
		errs := make([]error, 0, len(vs))
		for i, v := range vs {
			if v == nil {
				return tollgate.Agent{}, fmt.Errorf("identity: Chain verifier %d is nil; pass only configured verifiers", i)
			}
			a, err := v.Verify(ctx, c)
			if !errors.Is(err, ErrNoCredentials) {
				return a, err
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return tollgate.Agent{}, fmt.Errorf("%w: no verifier configured", ErrNoCredentials)
		}
		return tollgate.Agent{}, errors.Join(errs...)
	})
}
