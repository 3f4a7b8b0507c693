package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
)

// brokenStore fails every read and write with a storage error.
type brokenStore struct{ approvals.Store }

var errDisk = errors.New("sqlite: disk I/O error at /var/lib/tollgate/approvals.db")

func (brokenStore) List(context.Context, bool) ([]approvals.Record, error) { return nil, errDisk }
func (brokenStore) Get(context.Context, string) (approvals.Record, error) {
	return approvals.Record{}, errDisk
}

type brokenGrants struct{ grants.Store }

func (brokenGrants) List(context.Context, grants.Filter) ([]grants.Grant, error) { return nil, errDisk }

func TestStorageFailuresAreInternalAndLogged(t *testing.T) {
	e := newEnv(t)
	verifier := identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) { return alice, nil })
	svc, err := NewApprovalService(brokenStore{e.store}, WithVerifier(verifier), WithLogger(e.approvals.cfg.log))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := NewGrantService(brokenGrants{e.grants}, WithVerifier(verifier), WithLogger(e.approvals.cfg.log))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"list": func() error {
			_, err := grpcApprovals{s: svc}.ListPending(ctx, &adminv1.ListPendingRequest{})
			return err
		},
		"get": func() error {
			_, err := grpcApprovals{s: svc}.GetApproval(ctx, &adminv1.GetApprovalRequest{Id: "x"})
			return err
		},
		"deny":   func() error { _, err := grpcApprovals{s: svc}.Deny(ctx, &adminv1.DenyRequest{Id: "x"}); return err },
		"grants": func() error { _, err := grpcGrants{s: gs}.ListGrants(ctx, &adminv1.ListGrantsRequest{}); return err },
	} {
		err := call()
		wantCode(t, err, codes.Internal)
		if strings.Contains(err.Error(), "sqlite") {
			t.Errorf("%s: storage detail reached the client: %v", name, err)
		}
	}
	if !strings.Contains(e.logs.String(), "disk I/O error") {
		t.Errorf("storage error not logged: %s", e.logs.String())
	}
}

func TestSplit(t *testing.T) {
	for err, want := range map[error]codes.Code{
		errorf(codes.NotFound, "x"):                    codes.NotFound,
		context.Canceled:                               codes.Canceled,
		context.DeadlineExceeded:                       codes.DeadlineExceeded,
		errors.New("anything else"):                    codes.Internal,
		errors.Join(errors.New("w"), context.Canceled): codes.Canceled,
	} {
		if got, _ := split(err); got != want {
			t.Errorf("split(%v) = %s, want %s", err, got, want)
		}
	}
	if grpcError(nil) != nil || connectError(nil) != nil {
		t.Error("nil error mapped to a status")
	}
}

func TestRequireRole(t *testing.T) {
	admin := RequireRole("admin")
	ctx := context.Background()
	if err := admin(ctx, alice); err != nil {
		t.Errorf("admin refused: %v", err)
	}
	for name, a := range map[string]tollgate.Agent{
		"other role":   bob,
		"no metadata":  {ID: "x"},
		"role as list": {ID: "x", Metadata: tollgate.Params{{Key: RoleKey, Value: []any{"admin"}}}},
		"upper case":   {ID: "x", Metadata: tollgate.Params{{Key: RoleKey, Value: "ADMIN"}}},
	} {
		if err := admin(ctx, a); err == nil {
			t.Errorf("%s: admitted", name)
		}
	}
	if err := RequireRole("")(ctx, tollgate.Agent{ID: "x", Metadata: tollgate.Params{{Key: RoleKey, Value: ""}}}); err == nil {
		t.Error("RequireRole(\"\") admitted an empty role")
	}
}

func TestCustomAuthorizerAndAnonymousVerifier(t *testing.T) {
	// An authorizer naming admins by id.
	e := newEnv(t, WithAuthorizer(func(_ context.Context, a tollgate.Agent) error {
		if a.ID == bob.ID {
			return nil
		}
		return errors.New("not on the list")
	}))
	ctx := context.Background()
	if _, err := e.client("grpc", e.tokens(bob)).ListPending(ctx, &adminv1.ListPendingRequest{}); err != nil {
		t.Errorf("bob, on the list: %v", err)
	}
	_, err := e.admin("grpc").ListPending(ctx, &adminv1.ListPendingRequest{})
	wantCode(t, err, codes.PermissionDenied)

	// A verifier that returns an agent without an id proves nobody.
	anon := identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) {
		return tollgate.Agent{Metadata: alice.Metadata}, nil
	})
	svc, err := NewApprovalService(e.store, WithVerifier(anon), WithLogger(e.approvals.cfg.log))
	if err != nil {
		t.Fatal(err)
	}
	_, err = grpcApprovals{s: svc}.ListPending(ctx, &adminv1.ListPendingRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func TestNewServiceErrors(t *testing.T) {
	v := identity.VerifierFunc(func(context.Context, identity.Credentials) (tollgate.Agent, error) { return alice, nil })
	store := approvals.NewMemoryStore()
	for name, opts := range map[string][]Option{
		"no verifier":    nil,
		"nil verifier":   {WithVerifier(nil)},
		"nil authorizer": {WithVerifier(v), WithAuthorizer(nil)},
		"nil sink":       {WithVerifier(v), WithAuditSink(nil)},
		"nil clock":      {WithVerifier(v), WithClock(nil)},
		"nil logger":     {WithVerifier(v), WithLogger(nil)},
		"zero interval":  {WithVerifier(v), WithWatchInterval(0)},
		"nil ticks":      {WithVerifier(v), WithWatchTicks(nil)},
	} {
		if s, err := NewApprovalService(store, opts...); err == nil || s != nil {
			t.Errorf("%s: %v, %v; want an error", name, s, err)
		}
	}
	if _, err := NewApprovalService(nil, WithVerifier(v)); err == nil {
		t.Error("nil approvals store: no error")
	}
	if _, err := NewGrantService(nil, WithVerifier(v)); err == nil {
		t.Error("nil grants store: no error")
	}
	if _, err := NewGrantService(grants.NewMemory()); err == nil {
		t.Error("grant service without a verifier: no error")
	}
	s, err := NewApprovalService(store, WithVerifier(v), WithWatchInterval(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ticks, stop := s.cfg.ticks()
	stop()
	if ticks == nil {
		t.Error("WithWatchInterval gave no tick channel")
	}
}
