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

// newKillCmd is `tollgate kill`: set, list and lift kill switches through
// the admin API (package admin, KillSwitchService).
func newKillCmd() *cobra.Command {
	f := &adminFlags{}
	cmd := &cobra.Command{
		Use:   "kill",
		Short: "Set, list and lift kill switches: stop agents, tools, sessions or everything now (admin API)",
		Long: `kill talks to the admin API's KillSwitchService. A kill switch refuses every
call in its scope, on every replica sharing the kill switch store, with
reason KILLED (PERMISSION_DENIED), until it is lifted or its --ttl ends:

  global          every call, before its credentials are even verified
  agent:ID        calls by agent ID, and calls ID delegated
  tool:PATTERN    calls of a tool, or of every tool a prefix ending in "*"
                  matches ("mcp:*"; "*" is every tool)
  session:SID     calls whose token carries "sid": SID (identity mint --sid)

  set    set a switch (--scope and --reason are required); prints the new
         switch's id alone on its first line, so scripts can lift it
  list   the switches in force
  lift   lift a switch by id
` + adminFlagsHelp,
		Example: `  id=$(tollgate kill set --scope agent:support-bot --reason "leaking tickets" --ttl 1h \
      --addr 127.0.0.1:8081 --insecure | head -1)
  tollgate kill list --addr 127.0.0.1:8081 --insecure
  tollgate kill lift "$id" --reason "fixed in 2.3.1" --addr 127.0.0.1:8081 --insecure`,
		Args: args(0, "a subcommand: set, list or lift"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand: set, list or lift")
		},
	}
	f.register(cmd)
	cmd.AddCommand(killSetCmd(f), killListCmd(f), killLiftCmd(f))
	return cmd
}

func killSetCmd(f *adminFlags) *cobra.Command {
	var (
		req adminv1.SetKillSwitchRequest
		ttl time.Duration
	)
	cmd := &cobra.Command{
		Use:   "set --scope SCOPE --reason TEXT [--ttl D]",
		Short: "Set a kill switch; prints its id on the first line",
		Args:  args(0, "no arguments (use the flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case req.Scope == "":
				return usageError(cmd, "--scope is required: global, agent:ID, tool:PATTERN or session:SID")
			case req.Reason == "":
				return usageError(cmd, "--reason is required (the audit trail and the refused agents' operators read it)")
			case ttl < 0 || cmd.Flags().Changed("ttl") && ttl == 0:
				return usageError(cmd, "--ttl must be positive (leave it out for a switch that stays until lifted)")
			}
			if ttl > 0 {
				req.Ttl = durationpb.New(ttl)
			}
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.SetKillSwitchResponse], error) {
				return c.kills.SetKillSwitch(ctx, connect.NewRequest(&req))
			}, func(w io.Writer, msg *adminv1.SetKillSwitchResponse) {
				ks := msg.GetKillSwitch()
				fmt.Fprintln(w, printable(ks.GetId()))
				fmt.Fprintln(w, killSummary(ks))
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&req.Scope, "scope", "", "what to stop: global, agent:ID, tool:PATTERN or session:SID (required)")
	fs.StringVar(&req.Reason, "reason", "", "why, for the audit trail (required)")
	fs.DurationVar(&ttl, "ttl", 0, "lift the switch by itself after `D`, such as 1h (default: until lifted)")
	return cmd
}

func killListCmd(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the kill switches in force",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.ListKillSwitchesResponse], error) {
				return c.kills.ListKillSwitches(ctx, connect.NewRequest(&adminv1.ListKillSwitchesRequest{}))
			}, func(w io.Writer, msg *adminv1.ListKillSwitchesResponse) {
				printKillSwitches(w, msg.GetKillSwitches())
			})
		},
	}
}

func killLiftCmd(f *adminFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "lift ID",
		Short: "Lift a kill switch",
		Args:  args(1, "one argument, the kill switch id"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return callAdmin(cmd, f, func(ctx context.Context, c *adminClients) (*connect.Response[adminv1.LiftKillSwitchResponse], error) {
				return c.kills.LiftKillSwitch(ctx, connect.NewRequest(&adminv1.LiftKillSwitchRequest{Id: argv[0], Reason: reason}))
			}, func(w io.Writer, msg *adminv1.LiftKillSwitchResponse) {
				fmt.Fprintf(w, "lifted kill switch %s: %s\n", printable(msg.GetKillSwitch().GetId()), killSummary(msg.GetKillSwitch()))
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
	return cmd
}

func printKillSwitches(w io.Writer, list []*adminv1.KillSwitch) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no kill switches")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSCOPE\tSET\tEXPIRES\tBY\tREASON")
	for _, ks := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", printable(ks.GetId()), printable(ks.GetScope()), when(ks.GetSetAt()),
			untilLifted(ks), printable(ks.GetSetBy()), printable(ks.GetReason()))
	}
	tw.Flush()
}

// killSummary says in one line what a switch stops.
func killSummary(ks *adminv1.KillSwitch) string {
	return printable(fmt.Sprintf("%s stopped until %s by %s: %s", ks.GetScope(), untilLifted(ks), ks.GetSetBy(), ks.GetReason()))
}

func untilLifted(ks *adminv1.KillSwitch) string {
	if ks.GetExpiresAt() == nil {
		return "lifted"
	}
	return when(ks.GetExpiresAt())
}
