package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tollgate-go/tollgate/admin/adminv1"
)

// newApprovalsCmd is `tollgate approvals`: list, show and decide the calls
// waiting for a human, through the admin API (package admin).
func newApprovalsCmd() *cobra.Command {
	f := &adminFlags{}
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List, show, approve and deny tool calls waiting for a human (admin API)",
		Long: `approvals talks to the admin API's ApprovalService:

  list          the pending requests, oldest first
  show ID       one request, decided or not: the call, who asked, why
  approve ID    approve it (the caller retries with the approval id and the
                call runs once); --grant-ttl also lets the same agent make
                the same kind of call without asking for a while
  deny ID       deny it

Decisions are final, and the decider recorded is whoever the admin token
proves, whatever else is sent. A call whose policy rule or manifest tool
sets approvals_required: N needs N distinct admins: approve records one
approval and prints the progress ("approval 1 of 2 recorded"), show lists
every decision, the same admin never counts twice, and one deny ends it.
Nobody may approve a call they made or delegated (the requesting agent and
its delegation chain); they may deny it.
` + adminFlagsHelp,
		Example: `  export TOLLGATE_ADMIN_TOKEN=$(cat admin.jwt)
  tollgate approvals list --addr admin.internal:8443
  tollgate approvals show 6f1c… --addr admin.internal:8443
  tollgate approvals approve 6f1c… --note "checked with HR" --addr admin.internal:8443
  tollgate approvals deny 6f1c… --note "no ticket" --addr 127.0.0.1:8081 --insecure`,
		Args: args(0, "a subcommand: list, show, approve or deny"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand: list, show, approve or deny")
		},
	}
	f.register(cmd)
	cmd.AddCommand(approvalsListCmd(f), approvalsShowCmd(f), approveCmd(f), denyCmd(f))
	return cmd
}

func approvalsListCmd(f *adminFlags) *cobra.Command {
	var expired bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the pending approval requests, oldest first",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.ListPendingResponse], error) {
				return c.approvals.ListPending(ctx, connect.NewRequest(&adminv1.ListPendingRequest{IncludeExpired: expired}))
			}, func(w io.Writer, msg *adminv1.ListPendingResponse) {
				printApprovals(w, msg.GetApprovals())
			})
		},
	}
	cmd.Flags().BoolVar(&expired, "include-expired", false, "also list requests that expired undecided")
	return cmd
}

func approvalsShowCmd(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one approval request",
		Args:  args(1, "one argument, the approval id"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.GetApprovalResponse], error) {
				return c.approvals.GetApproval(ctx, connect.NewRequest(&adminv1.GetApprovalRequest{Id: argv[0]}))
			}, func(w io.Writer, msg *adminv1.GetApprovalResponse) {
				printApproval(w, msg.GetApproval())
			})
		},
	}
}

func approveCmd(f *adminFlags) *cobra.Command {
	var (
		note     string
		grantTTL time.Duration
		maxUses  int32
	)
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a pending request",
		Long: `approve approves a pending request: the agent's retry with the approval id
runs once. With --grant-ttl it also issues a grant for the request's agent,
tool, action, effect and resource type, so the same kind of call runs
without asking until the grant expires or --grant-max-uses calls have used it.`,
		Example: `  tollgate approvals approve 6f1c… --note "checked with HR" --addr 127.0.0.1:8081 --insecure
  tollgate approvals approve 6f1c… --grant-ttl 1h --grant-max-uses 20 --addr admin.internal:8443`,
		Args: args(1, "one argument, the approval id"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			req := &adminv1.ApproveRequest{Id: argv[0], Note: note}
			switch {
			case grantTTL < 0:
				return usageError(cmd, "--grant-ttl must be positive")
			case maxUses < 0:
				return usageError(cmd, "--grant-max-uses must not be negative (0: unlimited)")
			case grantTTL == 0 && cmd.Flags().Changed("grant-max-uses"):
				return usageError(cmd, "--grant-max-uses needs --grant-ttl")
			case grantTTL > 0:
				req.Grant = &adminv1.GrantOnApprove{Ttl: durationpb.New(grantTTL), MaxUses: maxUses}
			}
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.ApproveResponse], error) {
				return c.approvals.Approve(ctx, connect.NewRequest(req))
			}, func(w io.Writer, msg *adminv1.ApproveResponse) {
				printDecision(w, msg.GetApproval())
				if g := msg.GetGrant(); g != nil {
					fmt.Fprintf(w, "grant %s: %s\n", printable(g.GetId()), grantSummary(g))
				}
			})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why, for the audit trail")
	cmd.Flags().DurationVar(&grantTTL, "grant-ttl", 0, "also grant this kind of call for `DURATION` (such as 1h)")
	cmd.Flags().Int32Var(&maxUses, "grant-max-uses", 0, "the grant allows at most `N` calls (0: unlimited)")
	return cmd
}

func denyCmd(f *adminFlags) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:     "deny ID",
		Short:   "Deny a pending request",
		Example: `  tollgate approvals deny 6f1c… --note "open a ticket first" --addr 127.0.0.1:8081 --insecure`,
		Args:    args(1, "one argument, the approval id"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.DenyResponse], error) {
				return c.approvals.Deny(ctx, connect.NewRequest(&adminv1.DenyRequest{Id: argv[0], Note: note}))
			}, func(w io.Writer, msg *adminv1.DenyResponse) {
				printDecision(w, msg.GetApproval())
			})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why, for the audit trail and the agent's operator")
	return cmd
}

func printApprovals(w io.Writer, list []*adminv1.Approval) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no pending approval requests")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAGENT\tTOOL\tACTION\tEXPIRES\tAPPROVED\tREASON")
	for _, a := range list {
		expires := when(a.GetExpiresAt())
		if a.GetExpired() {
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", printable(a.GetId()), printable(agentName(a.GetAgent())),
			printable(a.GetToolRequest().GetTool()), printable(a.GetToolRequest().GetAction()), expires,
			approvedCount(a), required(a), printable(a.GetReason()))
	}
	tw.Flush()
}

func printApproval(w io.Writer, a *adminv1.Approval) {
	tr := a.GetToolRequest()
	line := func(key, value string) { fmt.Fprintf(w, "%-13s %s\n", key+":", printable(value)) }
	line("id", a.GetId())
	line("status", approvalStatus(a))
	line("agent", agentName(a.GetAgent())+versionOwner(a.GetAgent()))
	if chain := a.GetAgent().GetDelegatedBy(); len(chain) > 0 {
		line("delegated by", strings.Join(chain, " → "))
	}
	line("intent", strings.TrimSuffix(a.GetIntent().GetAction()+": "+a.GetIntent().GetReason(), ": "))
	line("tool", fmt.Sprintf("%s (action %s, effect %s, resource %s)", tr.GetTool(), tr.GetAction(), tr.GetEffect(), tr.GetResourceType()))
	line("params", tr.GetParamsJson())
	line("reason", a.GetReason()+byPolicy(a.GetPolicyId()))
	line("request hash", a.GetRequestHash())
	line("created", when(a.GetCreatedAt()))
	line("expires", when(a.GetExpiresAt()))
	if required(a) > 1 {
		line("approvals", fmt.Sprintf("%d of %d needed", approvedCount(a), required(a)))
	}
	for _, d := range a.GetDecisions() {
		note := ""
		if d.GetNote() != "" {
			note = ": " + d.GetNote()
		}
		line("decision", fmt.Sprintf("%s by %s at %s%s", outcomeWord(d.GetOutcome()), d.GetBy(), when(d.GetAt()), note))
	}
	if a.GetDecidedBy() != "" {
		line("decided", fmt.Sprintf("%s by %s", when(a.GetDecidedAt()), a.GetDecidedBy()))
	}
	if a.GetNote() != "" {
		line("note", a.GetNote())
	}
	if a.GetUsedAt() != nil {
		line("used", when(a.GetUsedAt()))
	}
}

// printDecision prints what an approve or deny did: the settled outcome,
// or, for a request that needs more approvers, the progress.
func printDecision(w io.Writer, a *adminv1.Approval) {
	call := printable(agentName(a.GetAgent())) + " " + printable(a.GetToolRequest().GetTool())
	if a.GetOutcome() == adminv1.Outcome_OUTCOME_PENDING {
		have, need := approvedCount(a), required(a)
		fmt.Fprintf(w, "approval %d of %d recorded for %s: %s; waiting for %d more approver(s)\n", have, need, printable(a.GetId()), call, need-have)
		return
	}
	fmt.Fprintf(w, "%s %s by %s: %s\n", outcomeWord(a.GetOutcome()), printable(a.GetId()), printable(a.GetDecidedBy()), call)
}

// required is how many approvers a request needs; servers from before the
// two-person rule send 0, which means one.
func required(a *adminv1.Approval) int { return max(1, int(a.GetApprovalsRequired())) }

func approvedCount(a *adminv1.Approval) int {
	n := 0
	for _, d := range a.GetDecisions() {
		if d.GetOutcome() == adminv1.Outcome_OUTCOME_APPROVED {
			n++
		}
	}
	return n
}

// approvalStatus is a request's state in words.
func approvalStatus(a *adminv1.Approval) string {
	switch {
	case a.GetOutcome() == adminv1.Outcome_OUTCOME_PENDING && a.GetExpired():
		return "expired undecided"
	case a.GetOutcome() == adminv1.Outcome_OUTCOME_PENDING && required(a) > 1:
		return fmt.Sprintf("pending (%d of %d approvals)", approvedCount(a), required(a))
	case a.GetOutcome() == adminv1.Outcome_OUTCOME_APPROVED && a.GetUsedAt() != nil:
		return "approved, used"
	}
	return outcomeWord(a.GetOutcome())
}

func outcomeWord(o adminv1.Outcome) string {
	switch o {
	case adminv1.Outcome_OUTCOME_PENDING:
		return "pending"
	case adminv1.Outcome_OUTCOME_APPROVED:
		return "approved"
	case adminv1.Outcome_OUTCOME_DENIED:
		return "denied"
	}
	return "unknown"
}

func agentName(a *adminv1.Agent) string {
	if chain := a.GetDelegatedBy(); len(chain) > 0 {
		return a.GetAgentId() + " (via " + chain[len(chain)-1] + ")"
	}
	return a.GetAgentId()
}

func versionOwner(a *adminv1.Agent) string {
	var s string
	if a.GetVersion() != "" {
		s += " v" + a.GetVersion()
	}
	if a.GetOwner() != "" {
		s += ", owner " + a.GetOwner()
	}
	return s
}

func byPolicy(id string) string {
	if id == "" {
		return ""
	}
	return " (policy " + id + ")"
}
