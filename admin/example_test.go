package admin_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"connectrpc.com/connect"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/interceptor"
)

// An admin approves a parked call over Connect. The decider recorded is
// the verified token's subject; the role comes from its signed "meta"
// claim.
func Example() {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	kid := identity.KeyID(pub)
	keys, _ := identity.NewKeySet(identity.Key{ID: kid, Public: pub})
	verifier, _ := identity.NewJWTVerifier(keys, identity.WithAudience("tollgate-admin"))

	// The store a deferred Tower parks calls in (tower.WithApprovalStore).
	store := approvals.NewMemoryStore()
	id, _ := store.Create(context.Background(), approvals.Request{
		Agent:       tollgate.Agent{ID: "hr-bot"},
		ToolRequest: tollgate.ToolRequest{Tool: "api:delete_user", Params: tollgate.Params{{Key: "user", Value: "u-1"}}},
		ExpiresAt:   time.Now().Add(time.Hour),
	})

	svc, err := admin.NewApprovalService(store,
		admin.WithVerifier(verifier),
		admin.WithAuditSink(audit.SinkFunc(func(_ context.Context, e *audit.Event) error {
			fmt.Println("audit:", e.Agent.ID, e.ToolRequest.Action, e.Outcome)
			return nil
		})))
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux() // the admin API's own, apart from tool traffic
	mux.Handle(svc.ConnectHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	alice := tollgate.Agent{ID: "alice@example.com", Metadata: tollgate.Params{{Key: admin.RoleKey, Value: admin.DefaultRole}}}
	signer, _ := identity.NewSigner(key, kid, alice, identity.WithAudience("tollgate-admin"))
	client := adminv1connect.NewApprovalServiceClient(http.DefaultClient, srv.URL,
		connect.WithInterceptors(interceptor.NewConnectClientInterceptor(interceptor.WithTokenSource(signer.Token))))

	resp, err := client.Approve(context.Background(), connect.NewRequest(&adminv1.ApproveRequest{Id: id, Note: "checked"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	a := resp.Msg.GetApproval()
	fmt.Println(a.GetOutcome(), "by", a.GetDecidedBy(), "params", a.GetToolRequest().GetParamsJson())

	_, err = client.Deny(context.Background(), connect.NewRequest(&adminv1.DenyRequest{Id: id}))
	fmt.Println(connect.CodeOf(err))
	// Output:
	// audit: alice@example.com approve executed
	// OUTCOME_APPROVED by alice@example.com params {"user":"u-1"}
	// audit: alice@example.com deny failed
	// failed_precondition
}

// Every new approval request rings a webhook; the Tower needs no change.
func ExampleNotifyOnCreate() {
	got := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := audit.VerifySignature([]byte("shared secret"), body, r.Header.Get("X-Tollgate-Signature"), time.Now(), audit.DefaultSignatureTolerance)
		got <- fmt.Sprint(err == nil)
	}))
	defer hook.Close()

	notifier, err := admin.NewWebhookNotifier(hook.URL, []byte("shared secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	store := admin.NotifyOnCreate(approvals.NewMemoryStore(), notifier) // pass to tower.WithApprovalStore
	_, _ = store.Create(context.Background(), approvals.Request{Agent: tollgate.Agent{ID: "hr-bot"}, ExpiresAt: time.Now().Add(time.Hour)})
	_ = notifier.Close(context.Background()) // drains the queue
	fmt.Println("signed:", <-got, "delivered:", notifier.Stats().Delivered)
	// Output: signed: true delivered: 1
}
