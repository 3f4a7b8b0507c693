package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tollgate-go/tollgate/admin/adminv1"
)

// newGrantsCmd is `tollgate grants`: issue, list and revoke grants through
// the admin API (package admin).
func newGrantsCmd() *cobra.Command {
	f := &adminFlags{}
	cmd := &cobra.Command{
		Use:   "grants",
		Short: "Add, list and revoke grants: standing permissions for ASK calls (admin API)",
		Long: `grants talks to the admin API's GrantService. A grant lets calls the policy
sends to ASK run without asking a human, for one agent (or "*", every
agent) and one tool (or a prefix ending in "*"), until it expires, is
revoked or is used up. A grant never allows a call the policy denies.

  add      issue a grant (--agent, --tool and --ttl are required)
  list     the active grants (--all: also expired, revoked and used up)
  revoke   revoke a grant by id
` + adminFlagsHelp,
		Example: `  tollgate grants add --agent hr-bot --tool "api:*" --effect delete --ttl 1h --max-uses 20 \
      --reason "offboarding week" --addr 127.0.0.1:8081 --insecure
  tollgate grants list --agent hr-bot --addr 127.0.0.1:8081 --insecure
  tollgate grants revoke 0b6e… --addr 127.0.0.1:8081 --insecure`,
		Args: args(0, "a subcommand: add, list or revoke"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand: add, list or revoke")
		},
	}
	f.register(cmd)
	cmd.AddCommand(grantsAddCmd(f), grantsListCmd(f), grantsRevokeCmd(f))
	return cmd
}

func grantsAddCmd(f *adminFlags) *cobra.Command {
	var (
		req adminv1.CreateGrantRequest
		ttl time.Duration
	)
	cmd := &cobra.Command{
		Use:   "add --agent A --tool T --ttl D",
		Short: "Issue a grant",
		Args:  args(0, "no arguments (use the flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case req.AgentId == "":
				return usageError(cmd, `--agent is required ("*" for every agent)`)
			case req.Tool == "":
				return usageError(cmd, `--tool is required (a tool, a prefix ending in "*", or "*")`)
			case ttl <= 0:
				return usageError(cmd, "--ttl is required and must be positive (a grant always ends)")
			case req.MaxUses < 0:
				return usageError(cmd, "--max-uses must not be negative (0: unlimited)")
			}
			req.Lifetime = &adminv1.CreateGrantRequest_Ttl{Ttl: durationpb.New(ttl)}
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.CreateGrantResponse], error) {
				return c.grants.CreateGrant(ctx, connect.NewRequest(&req))
			}, func(w io.Writer, msg *adminv1.CreateGrantResponse) {
				g := msg.GetGrant()
				fmt.Fprintf(w, "grant %s: %s\n", printable(g.GetId()), grantSummary(g))
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&req.AgentId, "agent", "", "the agent `ID`, or \"*\" for every agent (required)")
	fs.StringVar(&req.Tool, "tool", "", "the `TOOL`, a prefix ending in \"*\", or \"*\" (required)")
	fs.StringVar(&req.Effect, "effect", "", "only calls with this `EFFECT` (read, write, delete, notify, unknown)")
	fs.StringVar(&req.Action, "action", "", "only calls with this `ACTION`")
	fs.StringVar(&req.ResourceType, "resource-type", "", "only calls on this `TYPE` of resource")
	fs.DurationVar(&ttl, "ttl", 0, "how long the grant lasts, such as 1h (required)")
	fs.Int32Var(&req.MaxUses, "max-uses", 0, "at most `N` calls (0: unlimited)")
	fs.StringVar(&req.Reason, "reason", "", "why, for the audit trail")
	return cmd
}

func grantsListCmd(f *adminFlags) *cobra.Command {
	var req adminv1.ListGrantsRequest
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List grants",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.ListGrantsResponse], error) {
				return c.grants.ListGrants(ctx, connect.NewRequest(&req))
			}, func(w io.Writer, msg *adminv1.ListGrantsResponse) {
				printGrants(w, msg.GetGrants())
			})
		},
	}
	cmd.Flags().StringVar(&req.AgentId, "agent", "", "only grants issued for exactly this agent `ID`")
	cmd.Flags().BoolVar(&req.IncludeInactive, "all", false, "also expired, revoked and used-up grants")
	return cmd
}

func grantsRevokeCmd(f *adminFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a grant",
		Args:  args(1, "one argument, the grant id"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.RevokeGrantResponse], error) {
				return c.grants.RevokeGrant(ctx, connect.NewRequest(&adminv1.RevokeGrantRequest{Id: argv[0], Reason: reason}))
			}, func(w io.Writer, msg *adminv1.RevokeGrantResponse) {
				fmt.Fprintf(w, "revoked grant %s: %s\n", printable(msg.GetGrant().GetId()), grantSummary(msg.GetGrant()))
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
	return cmd
}

func printGrants(w io.Writer, list []*adminv1.Grant) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no grants")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAGENT\tTOOL\tEFFECT\tACTION\tRESOURCE\tEXPIRES\tUSES\tSTATE\tBY")
	for _, g := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(g.GetId()), printable(anyIfEmpty(g.GetAgentId())),
			printable(anyIfEmpty(g.GetTool())), anyIfEmpty(g.GetEffect()), printable(anyIfEmpty(g.GetAction())),
			printable(anyIfEmpty(g.GetResourceType())), when(g.GetExpiresAt()), uses(g), grantState(g), printable(g.GetGrantedBy()))
	}
	tw.Flush()
}

// grantSummary says in one line what a grant allows.
func grantSummary(g *adminv1.Grant) string {
	s := fmt.Sprintf("%s may call %s", anyIfEmpty(g.GetAgentId()), anyIfEmpty(g.GetTool()))
	for _, f := range []struct{ name, value string }{{"action", g.GetAction()}, {"effect", g.GetEffect()}, {"resource", g.GetResourceType()}} {
		if f.value != "" {
			s += " " + f.name + " " + f.value
		}
	}
	s += " until " + when(g.GetExpiresAt())
	if g.GetMaxUses() > 0 {
		s += fmt.Sprintf(", at most %d times", g.GetMaxUses())
	}
	return printable(s) + " (" + grantState(g) + ")"
}

func anyIfEmpty(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func uses(g *adminv1.Grant) string {
	if g.GetMaxUses() == 0 {
		return fmt.Sprint(g.GetUses())
	}
	return fmt.Sprintf("%d/%d", g.GetUses(), g.GetMaxUses())
}

func grantState(g *adminv1.Grant) string {
	switch {
	case g.GetRevoked():
		return "revoked"
	case g.GetActive():
		return "active"
	case g.GetMaxUses() > 0 && g.GetUses() >= g.GetMaxUses():
		return "used up"
	}
	return "expired"
}
