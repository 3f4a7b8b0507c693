package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// The role the default Authorizer requires, and the agent metadata key it
// reads. A token carries it in its "meta" claim, which identity's
// JWTVerifier turns into Agent.Metadata:
//
//	{"sub": "alice@example.com", "aud": "tollgate-admin", "meta": {"role": "admin"}, ...}
const (
	DefaultRole = "admin"
	RoleKey     = "role"
)

// RequireRole returns an Authorizer that admits a caller whose verified
// metadata has RoleKey equal to role, exactly.
func RequireRole(role string) Authorizer {
	return func(_ context.Context, caller tollgate.Agent) error {
		if v, ok := caller.Metadata.Get(RoleKey); ok && v == role && role != "" {
			return nil
		}
		return fmt.Errorf("admin: agent %q does not have %s %q", caller.ID, RoleKey, role)
	}
}

// admit authenticates the caller of procedure and checks that it is an
// admin. A refused admin attempt to change something is audited.
func (c *config) admit(ctx context.Context, procedure string, creds identity.Credentials) (tollgate.Agent, error) {
	caller, err := c.verifier.Verify(ctx, creds)
	if err != nil {
		return tollgate.Agent{}, c.credentialsRefused(ctx, procedure, err)
	}
	if caller.ID == "" {
		c.log.Error("tollgate admin: the verifier returned an agent without an id", "procedure", procedure)
		return tollgate.Agent{}, errorf(codes.Unauthenticated, "admin credentials are missing or invalid")
	}
	return caller, c.checkAdmin(ctx, procedure, caller)
}

func (c *config) credentialsRefused(ctx context.Context, procedure string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	c.log.Warn("tollgate admin: credentials refused", "procedure", procedure, "error", err)
	return errorf(codes.Unauthenticated, "admin credentials are missing or invalid")
}

func (c *config) checkAdmin(ctx context.Context, procedure string, caller tollgate.Agent) error {
	if err := c.authorize(ctx, caller); err != nil {
		c.log.Warn("tollgate admin: caller is not an admin", "procedure", procedure, "agent_id", caller.ID, "error", err)
		if mutates(procedure) {
			c.auditRefused(ctx, caller, procedure)
		}
		return errorf(codes.PermissionDenied, "%s is not allowed to use the admin API", caller.ID)
	}
	return nil
}

// readmit returns a check that the credentials a stream opened with, as
// caller, still admit an admin, for streams that outlive a moment: a token
// expires, a key is removed from the key set, an authorizer stops
// recognising the caller. A single-use token is refused as replayed on
// every check after the first; that refusal comes only after its
// signature, expiry and audience held (identity verifies them first), and
// it was this stream that used the token, so it does not end the stream.
func (c *config) readmit(procedure string, caller tollgate.Agent, creds identity.Credentials) func(context.Context) error {
	return func(ctx context.Context) error {
		again, err := c.verifier.Verify(ctx, creds)
		switch {
		case errors.Is(err, identity.ErrReplayed):
			again = caller
		case err != nil:
			return c.credentialsRefused(ctx, procedure, err)
		}
		return c.checkAdmin(ctx, procedure, again)
	}
}

// grpcCredentials reads incoming metadata (lower-case keys) and the peer's
// TLS state.
func grpcCredentials(ctx context.Context) identity.Credentials {
	md, _ := metadata.FromIncomingContext(ctx)
	creds := identity.Credentials{Header: md}
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			creds.TLS = &info.State
		}
	}
	return creds
}

// connectCredentials reads HTTP headers, lower-casing their names as gRPC
// metadata has them, and the TLS state withTLSState stored.
func connectCredentials(ctx context.Context, h http.Header) identity.Credentials {
	lower := make(map[string][]string, len(h))
	for k, v := range h {
		lower[strings.ToLower(k)] = v
	}
	state, _ := ctx.Value(tlsKey{}).(*tls.ConnectionState)
	return identity.Credentials{Header: lower, TLS: state}
}

type tlsKey struct{}

// withTLSState makes each request's TLS state visible to the handlers,
// which connect-go does not show it to.
func withTLSState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			r = r.WithContext(context.WithValue(r.Context(), tlsKey{}, r.TLS))
		}
		next.ServeHTTP(w, r)
	})
}
