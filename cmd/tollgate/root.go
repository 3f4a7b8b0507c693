package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// app holds what every command writes to and reads from.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "tollgate",
		Short: "Test, check and lint Tollgate policies; sign and verify manifests; verify audit logs",
		Long: `tollgate finds policy mistakes before production.

  test-policy  run scenario files against a policy (the CI step)
  check        ask what the gateway would do with one call, and why
  lint         find load errors and rules that are shadowed, dead or downgraded
  keygen       create an Ed25519 key pair and its JWKS
  identity     mint and inspect signed agent tokens
  manifest     sign, verify and hash tool manifests
  audit        verify the hash chain of an audit log; find anomalies in it
  replay       re-decide an audit log's calls with a candidate policy
  approvals    list, show, approve and deny calls waiting for a human (admin API)
  grants       add, list and revoke grants (admin API)
  kill         set, list and lift kill switches: stop agents, tools or everything (admin API)
  version      print the version

Exit codes: 0 success, 1 failure (a scenario failed, lint errors, a bad
signature, audit chain or agent token), 2 usage or configuration error, and
for check 3 ASK and 4 DENY.

Tollgate 1.4.0's own invocation, tollgate POLICY --scenarios FILE, also works.`,
		Example: `  tollgate test-policy policy.yaml --scenarios test_scenarios.yaml
  tollgate check --policy policy.yaml --manifest manifest.yaml --call call.json --explain
  tollgate manifest verify manifest.yaml --pub release.pub`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(a.stderr)
			_ = cmd.Usage()
			return exit(exitUsage)
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(c, err.Error())
	})
	root.AddCommand(
		a.testPolicyCmd(),
		a.checkCmd(),
		a.lintCmd(),
		a.keygenCmd(),
		a.identityCmd(),
		a.manifestCmd(),
		a.auditCmd(),
		a.replayCmd(),
		newApprovalsCmd(),
		newGrantsCmd(),
		newKillCmd(),
		a.versionCmd(),
	)
	return root
}

// usageError is a usage mistake, pointing at the command's help.
func usageError(c *cobra.Command, msg string) error {
	return fail(exitUsage, fmt.Errorf("%s (see '%s --help')", msg, c.CommandPath()))
}

// args checks the number of positional arguments, naming what is expected.
func args(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, got []string) error {
		if len(got) != n {
			return usageError(c, fmt.Sprintf("%s takes %s, got %d argument(s)", c.Name(), what, len(got)))
		}
		return nil
	}
}

// oneOf checks that a flag's value is one of allowed.
func oneOf(c *cobra.Command, flag, value string, allowed ...string) error {
	for _, v := range allowed {
		if value == v {
			return nil
		}
	}
	return usageError(c, fmt.Sprintf("--%s must be one of %v, got %q", flag, allowed, value))
}
