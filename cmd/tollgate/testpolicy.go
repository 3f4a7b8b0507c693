package main

import (
	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/policytest"
	"github.com/tollgate-go/tollgate/registry"
)

func (a *app) testPolicyCmd() *cobra.Command {
	var (
		scenarios, format, manifest string
		quiet, strict               bool
	)
	cmd := &cobra.Command{
		Use:   "test-policy POLICY --scenarios FILE",
		Short: "Run a scenario file against a policy (exit 0 all pass, 1 any failure)",
		Long: `test-policy evaluates every scenario of a Tollgate scenario file with the policy
and compares the decision with the scenario's expected decision, reason_contains
and policy_id. The file format, defaults, messages and text report are Tollgate
1.4.0's, so existing scenario files and CI log searches keep working.

Only the policy is evaluated, as in Tollgate: no rate limits, network guard,
parameter schemas or grants (use 'tollgate check' for the whole pipeline).
Without --manifest, each scenario's effect, resource_type and manifest_version
are used as written; a scenario expecting ALLOW must set manifest_version,
because an ALLOW without it becomes ASK.

With --manifest, each scenario's tool is resolved through the manifest as the
gateway does in production: effect, resource_type and manifest_version come from
the manifest (trusted metadata) and what the scenario says about them is ignored;
a tool the manifest lacks has effect unknown and is denied.

--strict also refuses unknown keys (a typo such as tool_requets: would otherwise
test the default request), effects other than read, write, delete, notify and
unknown (READ would otherwise become unknown), and a file with no scenarios.

Formats: text (Tollgate's report; with -q only failures and a count), json (JSON
Lines: one object per scenario, then a summary object), junit (JUnit XML for
GitHub Actions, GitLab and Jenkins).

Exit codes: 0 all scenarios passed, 1 a scenario failed, 2 usage or
configuration error (a file missing, unreadable, too large, or invalid, with
file:line:column).`,
		Example: `  tollgate test-policy policy.yaml --scenarios test_scenarios.yaml
  tollgate test-policy policy.yaml -s test_scenarios.yaml -q
  tollgate test-policy policy.yaml -s test_scenarios.yaml --manifest manifest.yaml --strict
  tollgate test-policy policy.yaml -s test_scenarios.yaml --format junit > policy-tests.xml
  tollgate policy.yaml --scenarios test_scenarios.yaml   # Tollgate 1.4.0's form`,
		Args: args(1, "one argument, the policy file"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := oneOf(cmd, "format", format, "text", "json", "junit"); err != nil {
				return err
			}
			p, err := policy.Load(argv[0])
			if err != nil {
				return err
			}
			var runOpts []policytest.RunOption
			if manifest != "" {
				data, err := readManifest(manifest)
				if err != nil {
					return err
				}
				m, err := registry.Parse(manifest, data)
				if err != nil {
					return err
				}
				runOpts = append(runOpts, policytest.WithManifest(m))
			}
			var loadOpts []policytest.LoadOption
			if strict {
				loadOpts = append(loadOpts, policytest.WithStrict())
			}
			list, err := policytest.LoadScenarios(scenarios, loadOpts...)
			if err != nil {
				return err
			}
			res := policytest.Run(p, list, runOpts...)
			var rep policytest.Reporter
			switch format {
			case "json":
				rep = policytest.JSON{}
			case "junit":
				rep = policytest.JUnit{Suite: argv[0]}
			default:
				rep = policytest.Text{Quiet: quiet}
			}
			if err := rep.Report(a.stdout, res); err != nil {
				return err
			}
			if !res.AllPassed() {
				return exit(exitFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&scenarios, "scenarios", "s", "", "scenario `FILE` (YAML, at most 32 MiB) (required)")
	f.BoolVarP(&quiet, "quiet", "q", false, "text format: print only failing scenarios and a count")
	f.BoolVar(&strict, "strict", false, "refuse unknown keys, invalid effects and an empty scenario list")
	f.StringVar(&format, "format", "text", "report `format`: text, json or junit")
	f.StringVar(&manifest, "manifest", "", "resolve each scenario's tool through this manifest `FILE`, as in production")
	_ = cmd.MarkFlagRequired("scenarios")
	return cmd
}
