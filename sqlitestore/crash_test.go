package sqlitestore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

// The crash tests run this test binary again as a child process (see
// TestMain) that serves commands against a database file, one JSON line in,
// one or more JSON lines out. Every reply is written after the store call
// returned, so a reply is an acknowledgement: what the child reported done
// must survive its SIGKILL, and what it never reported may have happened
// at most once.

// childEnv names the database file the child serves.
const childEnv = "TOLLGATE_SQLITESTORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		if err := serveChild(path, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type command struct {
	Op      string // grant, use-grant, loop-grant, get-grant, approval, decide, use-approval, loop-approvals, pending
	ID      string
	MaxUses int
	Outcome approvals.Outcome
	IDs     []string
}

type reply struct {
	Ready bool     `json:",omitempty"`
	Err   string   `json:",omitempty"`
	Found bool     `json:",omitempty"`
	Uses  int      `json:",omitempty"`
	Used  string   `json:",omitempty"` // loop-approvals: this approval was consumed
	Done  bool     `json:",omitempty"` // a loop ran out of work
	IDs   []string `json:",omitempty"`
}

// crashAgent and crashCall are the call every grant and approval of the
// crash tests is for; the tool names the grant or approval.
var crashAgent = tollgate.Agent{ID: "agent-crash", Version: "1"}

func crashCall(id string) tollgate.ToolRequest {
	return tollgate.ToolRequest{
		Tool: "crash:" + id, Action: "run", ResourceType: "thing", Effect: tollgate.EffectWrite,
		Params: tollgate.Params{{Key: "id", Value: id}},
	}
}

func crashRequest(id string) approvals.Request {
	return approvals.Request{ID: id, Agent: crashAgent, ToolRequest: crashCall(id), ExpiresAt: time.Now().Add(time.Hour)}
}

func crashBinding(id string) string {
	return approvals.BindingHash(crashAgent, tollgate.Intent{}, crashCall(id))
}

func serveChild(path string, in io.Reader, out io.Writer) error {
	db, err := sqlitestore.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	g, a := db.Grants(), db.Approvals()
	enc := json.NewEncoder(out) // one write per reply: an acknowledgement is in the pipe once sent
	send := func(r reply) error { return enc.Encode(r) }
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	if err := send(reply{Ready: true}); err != nil {
		return err
	}
	dec := json.NewDecoder(in)
	for {
		var c command
		if err := dec.Decode(&c); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		var r reply
		switch c.Op {
		case "grant":
			_, err := g.Create(ctx, grants.Grant{
				ID: c.ID, AgentID: crashAgent.ID, Tool: crashCall(c.ID).Tool,
				ExpiresAt: time.Now().Add(time.Hour), MaxUses: c.MaxUses, GrantedBy: "crash-test",
			})
			r.Err = errText(err)
		case "use-grant":
			got, found, err := g.Consume(ctx, crashAgent, crashCall(c.ID), time.Now())
			r = reply{Err: errText(err), Found: found, Uses: got.Uses}
		case "get-grant":
			got, found, err := g.Get(ctx, c.ID)
			r = reply{Err: errText(err), Found: found, Uses: got.Uses}
		case "loop-grant":
			for {
				got, found, err := g.Consume(ctx, crashAgent, crashCall(c.ID), time.Now())
				if err != nil || !found {
					r = reply{Err: errText(err), Done: true}
					break
				}
				if err := send(reply{Found: true, Uses: got.Uses}); err != nil {
					return err
				}
			}
		case "approval":
			_, err := a.Create(ctx, crashRequest(c.ID))
			r.Err = errText(err)
		case "decide":
			r.Err = errText(a.Decide(ctx, c.ID, approvals.Decision{Outcome: c.Outcome, By: "crash-test", At: time.Now()}))
		case "use-approval":
			r.Err = errText(a.Consume(ctx, c.ID, crashBinding(c.ID), time.Now()))
		case "loop-approvals":
			for _, id := range c.IDs {
				if err := a.Consume(ctx, id, crashBinding(id), time.Now()); err != nil {
					return err
				}
				if err := send(reply{Used: id}); err != nil {
					return err
				}
			}
			r.Done = true
		case "pending":
			recs, err := a.List(ctx, true)
			r.Err = errText(err)
			for _, rec := range recs {
				r.IDs = append(r.IDs, rec.Request.ID)
			}
		default:
			r.Err = "unknown op " + c.Op
		}
		if err := send(r); err != nil {
			return err
		}
	}
}

// child is a running crash child.
type child struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *json.Decoder
}

func startChild(t *testing.T, path string) *child {
	t.Helper()
	if testing.Short() {
		t.Skip("crash tests start child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stdin: stdin, out: json.NewDecoder(bufio.NewReader(stdout))}
	t.Cleanup(func() { c.kill() })
	if r := c.read(); !r.Ready {
		t.Fatalf("child did not report ready: %+v", r)
	}
	return c
}

// read returns the next reply; the child dying is a test failure.
func (c *child) read() reply {
	c.t.Helper()
	var r reply
	if err := c.out.Decode(&r); err != nil {
		c.t.Fatalf("reading from child: %v", err)
	}
	return r
}

func (c *child) send(cmd command) {
	c.t.Helper()
	if err := json.NewEncoder(c.stdin).Encode(cmd); err != nil {
		c.t.Fatalf("writing to child: %v", err)
	}
}

// do sends cmd and returns its reply.
func (c *child) do(cmd command) reply {
	c.t.Helper()
	c.send(cmd)
	return c.read()
}

// must is do for a command that must succeed.
func (c *child) must(cmd command) reply {
	c.t.Helper()
	r := c.do(cmd)
	if r.Err != "" {
		c.t.Fatalf("%+v: %s", cmd, r.Err)
	}
	return r
}

// kill sends SIGKILL and reaps the child. It returns every reply the child
// wrote before it died, which the parent had not read yet.
func (c *child) kill() []reply {
	if c.cmd.ProcessState != nil {
		return nil
	}
	_ = c.cmd.Process.Kill() // SIGKILL: no deferred Close, no flush, no cleanup
	var rest []reply
	for {
		var r reply
		if err := c.out.Decode(&r); err != nil {
			break // EOF: the child is gone and its output drained
		}
		rest = append(rest, r)
	}
	_ = c.cmd.Wait()
	return rest
}

// TestCrashKeepsPendingApprovalsAndGrantUses kills a process holding
// pending approvals and partly used grants, restarts it on the same file,
// and checks that nothing was lost and nothing can be used twice.
func TestCrashKeepsPendingApprovalsAndGrantUses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	first := startChild(t, path)
	first.must(command{Op: "grant", ID: "limited", MaxUses: 5})
	first.must(command{Op: "grant", ID: "unlimited"})
	for want := 1; want <= 3; want++ {
		if r := first.must(command{Op: "use-grant", ID: "limited"}); !r.Found || r.Uses != want {
			t.Fatalf("use %d of limited: %+v", want, r)
		}
	}
	first.must(command{Op: "use-grant", ID: "unlimited"})
	for _, id := range []string{"pending-1", "pending-2", "used", "ready", "denied"} {
		first.must(command{Op: "approval", ID: id})
	}
	first.must(command{Op: "decide", ID: "used", Outcome: approvals.OutcomeApproved})
	first.must(command{Op: "use-approval", ID: "used"})
	first.must(command{Op: "decide", ID: "ready", Outcome: approvals.OutcomeApproved})
	first.must(command{Op: "decide", ID: "denied", Outcome: approvals.OutcomeDenied})
	first.kill()

	second := startChild(t, path)
	if r := second.must(command{Op: "pending"}); fmt.Sprint(r.IDs) != "[pending-1 pending-2]" {
		t.Errorf("pending after restart: %v, want [pending-1 pending-2]", r.IDs)
	}
	// The limited grant had 3 of 5 uses: exactly 2 are left.
	for want := 4; want <= 5; want++ {
		if r := second.must(command{Op: "use-grant", ID: "limited"}); !r.Found || r.Uses != want {
			t.Fatalf("use %d of limited after restart: %+v", want, r)
		}
	}
	if r := second.must(command{Op: "use-grant", ID: "limited"}); r.Found {
		t.Errorf("limited grant used a 6th time after restart: %+v", r)
	}
	if r := second.must(command{Op: "use-grant", ID: "unlimited"}); !r.Found || r.Uses != 2 {
		t.Errorf("unlimited grant after restart: %+v, want its 2nd use", r)
	}
	for _, c := range []struct {
		cmd     command
		wantErr error
	}{
		{command{Op: "use-approval", ID: "used"}, approvals.ErrUsed},
		{command{Op: "use-approval", ID: "denied"}, approvals.ErrNotApproved},
		{command{Op: "use-approval", ID: "pending-1"}, approvals.ErrNotApproved},
		{command{Op: "decide", ID: "ready", Outcome: approvals.OutcomeDenied}, approvals.ErrAlreadyDecided},
		{command{Op: "use-approval", ID: "ready"}, nil},
		{command{Op: "use-approval", ID: "ready"}, approvals.ErrUsed},
		{command{Op: "decide", ID: "pending-1", Outcome: approvals.OutcomeApproved}, nil},
		{command{Op: "use-approval", ID: "pending-1"}, nil},
		{command{Op: "decide", ID: "pending-2", Outcome: approvals.OutcomeDenied}, nil},
	} {
		r := second.do(c.cmd)
		if c.wantErr == nil && r.Err != "" || c.wantErr != nil && !containsErr(r.Err, c.wantErr) {
			t.Errorf("%+v after restart: error %q, want %v", c.cmd, r.Err, c.wantErr)
		}
	}
	if r := second.must(command{Op: "pending"}); len(r.IDs) != 0 {
		t.Errorf("pending after deciding both: %v", r.IDs)
	}
}

// containsErr reports whether the child's error text carries want's text.
func containsErr(text string, want error) bool { return strings.Contains(text, want.Error()) }

// TestCrashDuringConsumeLoop kills a process in the middle of a busy loop
// of grant uses, then of approval uses: every use the process acknowledged
// is on disk, and at most the one in flight when it died was counted
// without an acknowledgement.
func TestCrashDuringConsumeLoop(t *testing.T) {
	const approvalCount = 100
	path := filepath.Join(t.TempDir(), "crash.db")

	first := startChild(t, path)
	first.must(command{Op: "grant", ID: "busy"})
	ids := make([]string, approvalCount)
	for i := range ids {
		ids[i] = fmt.Sprintf("busy-%03d", i)
		first.must(command{Op: "approval", ID: ids[i]})
		first.must(command{Op: "decide", ID: ids[i], Outcome: approvals.OutcomeApproved})
	}
	first.send(command{Op: "loop-grant", ID: "busy"})
	acked := 0
	for acked < 20 {
		r := first.read()
		if r.Done || r.Uses != acked+1 {
			t.Fatalf("loop-grant reply %+v after %d uses", r, acked)
		}
		acked = r.Uses
	}
	for _, r := range first.kill() {
		if r.Uses == acked+1 {
			acked = r.Uses
		}
	}

	second := startChild(t, path)
	stored := second.must(command{Op: "get-grant", ID: "busy"}).Uses
	if stored < acked || stored > acked+1 {
		t.Fatalf("grant uses on disk = %d; the child acknowledged %d, so want %d or %d", stored, acked, acked, acked+1)
	}
	t.Logf("grant loop: %d uses acknowledged, %d on disk", acked, stored)

	second.send(command{Op: "loop-approvals", IDs: ids})
	used := map[string]bool{}
	for len(used) < 10 {
		r := second.read()
		if r.Used == "" {
			t.Fatalf("loop-approvals reply %+v after %d uses", r, len(used))
		}
		used[r.Used] = true
	}
	for _, r := range second.kill() {
		if r.Done {
			t.Fatal("the approval loop finished before the kill; nothing was crashed mid-loop")
		}
		if r.Used != "" {
			used[r.Used] = true
		}
	}

	// Reopened in this process: every acknowledged approval is spent, at
	// most one more is, and every other one can be used exactly once.
	store := openPath(t, path).Approvals()
	ctx := t.Context()
	unacked := 0
	for _, id := range ids {
		err := store.Consume(ctx, id, crashBinding(id), time.Now())
		switch {
		case used[id] && !errors.Is(err, approvals.ErrUsed):
			t.Errorf("%s was acknowledged as used, but Consume after the crash gave %v", id, err)
		case !used[id] && errors.Is(err, approvals.ErrUsed):
			unacked++
		case !used[id] && err != nil:
			t.Errorf("%s: Consume after the crash: %v", id, err)
		}
		if err := store.Consume(ctx, id, crashBinding(id), time.Now()); !errors.Is(err, approvals.ErrUsed) {
			t.Errorf("%s: second Consume after the crash: %v, want ErrUsed", id, err)
		}
	}
	if unacked > 1 {
		t.Errorf("%d approvals were spent without an acknowledgement; at most the one in flight may be", unacked)
	}
	t.Logf("approval loop: %d uses acknowledged, %d in flight", len(used), unacked)
}
