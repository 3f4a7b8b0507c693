package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/killswitch"
)

// adminServer is a real admin API on 127.0.0.1: grpc-go on grpcAddr,
// connect-go (h2c) on connectAddr, over memory stores.
type adminServer struct {
	store                 *approvals.MemoryStore
	grants                *grants.Memory
	kills                 *killswitch.Memory
	grpcAddr, connectAddr string
	adminToken, botToken  string // files holding an admin's and a non-admin's token
	// carolToken is a second admin's; selfToken an admin's whose id is the
	// parked calls' delegator (orchestrator).
	carolToken, selfToken string
}

func startAdmin(t *testing.T) *adminServer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := identity.KeyID(pub)
	keys, err := identity.NewKeySet(identity.Key{ID: kid, Public: pub})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := identity.NewJWTVerifier(keys, identity.WithAudience("tollgate-admin"))
	if err != nil {
		t.Fatal(err)
	}
	s := &adminServer{store: approvals.NewMemoryStore(), grants: grants.NewMemory()}
	opts := []admin.Option{admin.WithVerifier(verifier), admin.WithGrantStore(s.grants), admin.WithLogger(slog.New(slog.DiscardHandler))}
	as, err := admin.NewApprovalService(s.store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := admin.NewGrantService(s.grants, opts...)
	if err != nil {
		t.Fatal(err)
	}

	if s.kills, err = killswitch.NewMemory(); err != nil {
		t.Fatal(err)
	}
	ks, err := admin.NewKillSwitchService(s.kills, opts...)
	if err != nil {
		t.Fatal(err)
	}

	gsrv := grpc.NewServer()
	as.RegisterGRPC(gsrv)
	gs.RegisterGRPC(gsrv)
	ks.RegisterGRPC(gsrv)
	s.grpcAddr = serveOn(t, func(l net.Listener) { _ = gsrv.Serve(l) })
	t.Cleanup(gsrv.Stop)

	mux := http.NewServeMux()
	mux.Handle(as.ConnectHandler())
	mux.Handle(gs.ConnectHandler())
	mux.Handle(ks.ConnectHandler())
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	hsrv := &http.Server{Handler: mux, Protocols: &p, ReadHeaderTimeout: 5 * time.Second}
	s.connectAddr = serveOn(t, func(l net.Listener) { _ = hsrv.Serve(l) })
	t.Cleanup(func() { hsrv.Close() })

	dir := t.TempDir()
	token := func(name string, a tollgate.Agent) string {
		signer, err := identity.NewSigner(priv, kid, a, identity.WithAudience("tollgate-admin"), identity.WithTTL(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := signer.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return mkfile(t, filepath.Join(dir, name), []byte(tok+"\n"))
	}
	s.adminToken = token("admin.jwt", tollgate.Agent{ID: "alice@example.com", Metadata: tollgate.Params{{Key: admin.RoleKey, Value: admin.DefaultRole}}})
	s.botToken = token("bot.jwt", tollgate.Agent{ID: "hr-bot"})
	s.carolToken = token("carol.jwt", tollgate.Agent{ID: "carol@example.com", Metadata: tollgate.Params{{Key: admin.RoleKey, Value: admin.DefaultRole}}})
	s.selfToken = token("self.jwt", tollgate.Agent{ID: "orchestrator", Metadata: tollgate.Params{{Key: admin.RoleKey, Value: admin.DefaultRole}}})
	return s
}

func serveOn(t *testing.T, serve func(net.Listener)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serve(l)
	return l.Addr().String()
}

// park stores a pending request under id, as a deferred Tower would.
func (s *adminServer) park(t *testing.T, id, reason string) {
	t.Helper()
	s.parkNeeding(t, id, reason, 0)
}

// parkNeeding parks a request that needs n approvers.
func (s *adminServer) parkNeeding(t *testing.T, id, reason string, n int) {
	t.Helper()
	agent := tollgate.Agent{ID: "hr-bot", Version: "1.0", Owner: "hr", DelegatedBy: []string{"orchestrator"}}
	req := tollgate.ToolRequest{Tool: "api:delete_user", Action: "delete", Effect: tollgate.EffectDelete, ResourceType: "user",
		Params: tollgate.Params{{Key: "user", Value: "u-1"}, {Key: "password", Value: "hunter2"}}}
	intent := tollgate.Intent{Action: "offboard", Reason: "left the company"}
	_, err := s.store.Create(context.Background(), approvals.Request{
		ID: id, Agent: agent, Intent: intent, ToolRequest: req, RequestHash: approvals.RequestHash(agent, intent, req),
		Reason: reason, PolicyID: "ask_deletes", ExpiresAt: time.Now().Add(time.Hour), ApprovalsRequired: n,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flags are the connection flags for protocol, with the admin token.
func (s *adminServer) flags(protocol string) []string {
	addr := s.connectAddr
	if protocol == "grpc" {
		addr = s.grpcAddr
	}
	return []string{"--addr", addr, "--insecure", "--protocol", protocol, "--token-file", s.adminToken}
}

func forEachProtocol(t *testing.T, f func(t *testing.T, protocol string)) {
	for _, p := range []string{"grpc", "connect"} {
		t.Run(p, func(t *testing.T) { f(t, p) })
	}
}

func (r result) contains(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.stdout, p) {
			t.Errorf("stdout does not contain %q:\n%s", p, r.stdout)
		}
	}
}

func TestApprovalsCommands(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		s := startAdmin(t)
		flags := s.flags(protocol)
		run := func(args ...string) result { return cli(t, nil, append(args, flags...)...) }

		run("approvals", "list").want(t, exitOK).contains(t, "no pending approval requests")
		s.park(t, "appr-1", "deletes need a human")
		s.park(t, "appr-2", "deletes need a human")
		run("approvals", "list").want(t, exitOK).contains(t,
			"ID ", "AGENT", "appr-1  hr-bot (via orchestrator)  api:delete_user  delete", "appr-2")

		show := run("approvals", "show", "appr-1").want(t, exitOK)
		show.contains(t, "status:       pending", "delegated by: orchestrator", "intent:       offboard: left the company",
			`params:       {"user":"u-1","password":"[REDACTED]"}`, "reason:       deletes need a human (policy ask_deletes)")
		if strings.Contains(show.stdout, "hunter2") {
			t.Errorf("show printed a secret:\n%s", show.stdout)
		}

		run("approvals", "approve", "appr-1", "--note", "checked with HR").want(t, exitOK).
			contains(t, "approved appr-1 by alice@example.com: hr-bot (via orchestrator) api:delete_user")
		run("approvals", "show", "appr-1").want(t, exitOK).contains(t, "status:       approved", "by alice@example.com", "note:         checked with HR")

		again := run("approvals", "deny", "appr-1")
		again.want(t, exitFailed).oneLineErr(t, "refused: failed_precondition")
		run("approvals", "deny", "appr-2", "--note", "no ticket").want(t, exitOK).contains(t, "denied appr-2 by alice@example.com")
		run("approvals", "approve", "nope").want(t, exitFailed).oneLineErr(t, "refused: not_found")

		rec, err := s.store.Get(context.Background(), "appr-1")
		if err != nil || rec.DecidedBy != "alice@example.com" || rec.Note != "checked with HR" {
			t.Errorf("stored decision: %+v, %v", rec, err)
		}

		// JSON is the API's messages with proto field names.
		out := run("approvals", "show", "appr-2", "--format", "json").want(t, exitOK)
		var got struct {
			Approval struct {
				ID        string `json:"id"`
				Outcome   string `json:"outcome"`
				DecidedBy string `json:"decided_by"`
			} `json:"approval"`
		}
		if err := json.Unmarshal([]byte(out.stdout), &got); err != nil || got.Approval.ID != "appr-2" ||
			got.Approval.Outcome != "OUTCOME_DENIED" || got.Approval.DecidedBy != "alice@example.com" {
			t.Errorf("json: %+v, %v\n%s", got, err, out.stdout)
		}
		run("approvals", "list", "--format", "json").want(t, exitOK).contains(t, "{}")
	})
}

// TestApprovalsTwoPersonRule: approve shows the progress of a request
// that needs two admins, show lists the decisions, the same admin cannot
// approve twice, the requesting agent's delegator cannot approve at all,
// and a second admin settles it.
func TestApprovalsTwoPersonRule(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		s := startAdmin(t)
		as := func(token string, args ...string) result {
			flags := s.flags(protocol)
			flags[len(flags)-1] = token
			return cli(t, nil, append(args, flags...)...)
		}
		s.parkNeeding(t, "appr-2p", "deletes need two people", 2)
		as(s.adminToken, "approvals", "list").want(t, exitOK).contains(t, "APPROVED", "0/2")

		as(s.selfToken, "approvals", "approve", "appr-2p").want(t, exitFailed).oneLineErr(t, "refused: permission_denied")
		as(s.adminToken, "approvals", "approve", "appr-2p", "--note", "first look").want(t, exitOK).
			contains(t, "approval 1 of 2 recorded for appr-2p: hr-bot (via orchestrator) api:delete_user; waiting for 1 more approver(s)")
		as(s.adminToken, "approvals", "show", "appr-2p").want(t, exitOK).
			contains(t, "status:       pending (1 of 2 approvals)", "approvals:    1 of 2 needed", "decision:     approved by alice@example.com at ", ": first look")
		as(s.adminToken, "approvals", "approve", "appr-2p").want(t, exitFailed).oneLineErr(t, "refused: failed_precondition")
		as(s.carolToken, "approvals", "approve", "appr-2p").want(t, exitOK).
			contains(t, "approved appr-2p by carol@example.com: hr-bot (via orchestrator) api:delete_user")
		show := as(s.adminToken, "approvals", "show", "appr-2p").want(t, exitOK)
		show.contains(t, "status:       approved", "approvals:    2 of 2 needed", "decision:     approved by carol@example.com", "by carol@example.com")

		// The delegator may deny its own call.
		s.park(t, "appr-own", "deletes need a human")
		as(s.selfToken, "approvals", "deny", "appr-own").want(t, exitOK).contains(t, "denied appr-own by orchestrator")
	})
}

func TestApproveWithGrant(t *testing.T) {
	s := startAdmin(t)
	s.park(t, "appr-1", "deletes need a human")
	cli(t, nil, append([]string{"approvals", "approve", "appr-1", "--grant-ttl", "1h", "--grant-max-uses", "5"}, s.flags("connect")...)...).
		want(t, exitOK).contains(t, "approved appr-1", "may call api:delete_user action delete effect delete resource user until", "at most 5 times (active)")
	list, err := s.grants.List(context.Background(), grants.Filter{IncludeInactive: true})
	if err != nil || len(list) != 1 || list[0].AgentID != "hr-bot" || list[0].MaxUses != 5 || list[0].GrantedBy != "alice@example.com" {
		t.Errorf("grants: %+v, %v", list, err)
	}
}

func TestApprovalsTokenFromEnvironment(t *testing.T) {
	s := startAdmin(t)
	tok, err := os.ReadFile(s.adminToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(tokenEnv, string(tok))
	cli(t, nil, "approvals", "list", "--addr", s.connectAddr, "--insecure").want(t, exitOK).contains(t, "no pending")
	// --token-file wins over the environment.
	cli(t, nil, "approvals", "list", "--addr", s.connectAddr, "--insecure", "--token-file", s.botToken).
		want(t, exitFailed).oneLineErr(t, "refused: permission_denied: hr-bot is not allowed")
}

func TestApprovalsErrors(t *testing.T) {
	s := startAdmin(t)
	t.Setenv(tokenEnv, "")
	dir := t.TempDir()
	empty := mkfile(t, filepath.Join(dir, "empty.jwt"), []byte(" \n"))
	spaced := mkfile(t, filepath.Join(dir, "spaced.jwt"), []byte("a b"))
	big := mkfile(t, filepath.Join(dir, "big.jwt"), []byte(strings.Repeat("a", maxTokenFile+1)))
	closed := func() string { // a loopback port nobody listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()
	tok := []string{"--token-file", s.adminToken}
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no subcommand":   {[]string{"approvals"}, exitUsage, "missing subcommand"},
		"no addr":         {append([]string{"approvals", "list"}, tok...), exitUsage, "--addr HOST:PORT is required"},
		"bad addr":        {append([]string{"approvals", "list", "--addr", "nohost"}, tok...), exitUsage, "want HOST:PORT"},
		"bad protocol":    {append([]string{"approvals", "list", "--addr", s.grpcAddr, "--protocol", "rest"}, tok...), exitUsage, "--protocol must be one of"},
		"bad format":      {append([]string{"approvals", "list", "--addr", s.grpcAddr, "--format", "yaml"}, tok...), exitUsage, "--format must be one of"},
		"bad timeout":     {append([]string{"approvals", "list", "--addr", s.grpcAddr, "--timeout", "0s"}, tok...), exitUsage, "--timeout must be positive"},
		"no token":        {[]string{"approvals", "list", "--addr", s.connectAddr, "--insecure"}, exitUsage, "no admin token: pass --token-file FILE or set TOLLGATE_ADMIN_TOKEN"},
		"missing file":    {[]string{"approvals", "list", "--addr", s.connectAddr, "--insecure", "--token-file", filepath.Join(dir, "nope")}, exitUsage, "no such file"},
		"empty file":      {[]string{"approvals", "list", "--addr", s.connectAddr, "--insecure", "--token-file", empty}, exitUsage, "empty"},
		"spaced token":    {[]string{"approvals", "list", "--addr", s.connectAddr, "--insecure", "--token-file", spaced}, exitUsage, "whitespace"},
		"huge token":      {[]string{"approvals", "list", "--addr", s.connectAddr, "--insecure", "--token-file", big}, exitUsage, "larger than"},
		"insecure remote": {append([]string{"approvals", "list", "--addr", "admin.example.com:443", "--insecure"}, tok...), exitUsage, "only allowed to a loopback address"},
		"unreachable":     {append([]string{"approvals", "list", "--addr", closed, "--insecure"}, tok...), exitUsage, "admin API at " + closed + ": unavailable"},
		"not an admin":    {[]string{"approvals", "list", "--addr", s.grpcAddr, "--insecure", "--protocol", "grpc", "--token-file", s.botToken}, exitFailed, "refused: permission_denied"},
		"show two ids":    {append([]string{"approvals", "show", "a", "b", "--addr", s.grpcAddr}, tok...), exitUsage, "one argument, the approval id"},
		"negative grant":  {append([]string{"approvals", "approve", "a", "--grant-ttl", "-1h", "--addr", s.grpcAddr}, tok...), exitUsage, "--grant-ttl must be positive"},
		"uses no ttl":     {append([]string{"approvals", "approve", "a", "--grant-max-uses", "3", "--addr", s.grpcAddr}, tok...), exitUsage, "--grant-max-uses needs --grant-ttl"},
		"negative uses":   {append([]string{"approvals", "approve", "a", "--grant-ttl", "1h", "--grant-max-uses", "-3", "--addr", s.grpcAddr}, tok...), exitUsage, "must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			cli(t, nil, tc.args...).want(t, tc.code).oneLineErr(t, tc.msg)
		})
	}
}

func TestPrintableNeutralisesTerminalControl(t *testing.T) {
	s := startAdmin(t)
	s.park(t, "appr-1", "routine\x1b[2K\rnothing to see\u202e")
	out := cli(t, nil, append([]string{"approvals", "list"}, s.flags("connect")...)...).want(t, exitOK)
	if strings.ContainsAny(out.stdout, "\x1b\r\u202e") {
		t.Fatalf("control characters reached the terminal: %q", out.stdout)
	}
	out.contains(t, `routine\u001b[2K\u000dnothing to see\u202e`)
	if got := printable("plain ü"); got != "plain ü" {
		t.Errorf("printable changed plain text: %q", got)
	}
}

func TestCallErrorClassifies(t *testing.T) {
	c := &adminClients{addr: "127.0.0.1:1"}
	var ee *exitError
	if err := c.callError(context.DeadlineExceeded); !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("deadline: %v, want exit 2", err)
	}
}
