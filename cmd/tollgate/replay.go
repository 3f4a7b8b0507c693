package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/replay"
	"github.com/tollgate-go/tollgate/tower"
)

func (a *app) replayCmd() *cobra.Command {
	var (
		policyPath, manifest, format string
		failOnChange                 bool
	)
	cmd := &cobra.Command{
		Use:   "replay AUDIT.jsonl --policy CANDIDATE.yaml [--manifest M]",
		Short: "Re-decide every call of an audit log with a candidate policy and list the calls it decides differently",
		Long: `replay reads an audit log — this gateway's or Tollgate 1.4.0's — and decides
every recorded call again with the candidate policy, to show before a merge
which past calls the change would have decided differently.

Each call is decided once: its "authorized" record and its outcome record
(same correlation id) are one call; checkpoint lines are skipped. The agent is
taken as recorded (it was verified when the call was made). Effect and
resource type are taken as recorded, or with --manifest from the manifest, as
the gateway does.

Replay runs the stages that are pure functions of the call: the policy, the
network guard (the candidate's network_policy: block) and, with --manifest,
each tool's parameter schema and constraints. It does not run identity, rate
limits, the circuit breaker, grants or approvers: a call refused by one of
those (or by an internal error or a cancellation) is skipped, since the log
holds no decision to compare, and an ASK stays ASK. A call changes when the
candidate decides ALLOW, ASK or DENY where the log records another of them.

The audit sink redacts secrets ("[REDACTED]") and cuts long values
("… [TRUNCATED: N bytes, sha256:…]"). A call whose decision could depend on
such a value — a rule tried before the match failed on it, the matching rule
reads it, or the network guard or a schema reads redacted params — is reported
undetermined, never guessed.

Formats: text (summary, then each changed and undetermined call), json (one
object: total, changed, undetermined and skipped counts, moves, by_rule, and
a calls list of the changed and undetermined calls), junit (each changed or
undetermined call a failing test case).

Exit codes: 0 done (and, with --fail-on-change, nothing changed), 1 with
--fail-on-change a call changed or is undetermined, 2 usage error or a bad
file (the file and line, and what is wrong).`,
		Example: `  tollgate replay audit.jsonl --policy candidate.yaml
  tollgate replay audit.jsonl --policy candidate.yaml --manifest manifest.yaml --fail-on-change
  tollgate replay audit.jsonl --policy candidate.yaml --format junit > replay.xml`,
		Args: args(1, "one argument, the audit log"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := oneOf(cmd, "format", format, "text", "json", "junit"); err != nil {
				return err
			}
			r, err := loadReplayer(policyPath, manifest)
			if err != nil {
				return err
			}
			path := argv[0]
			f, _, err := openLog(path)
			if err != nil {
				return err
			}
			defer f.Close()
			rep := &replayReport{Audit: path, Policy: policyPath}
			rep.Summary, err = r.Run(f, rep.keep)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			switch format {
			case "json":
				err = rep.writeJSON(a.stdout)
			case "junit":
				err = rep.writeJUnit(a.stdout)
			default:
				err = rep.writeText(a.stdout)
			}
			if err != nil {
				return err
			}
			if failOnChange && rep.Summary.Changed+rep.Summary.Undetermined > 0 {
				return exit(exitFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&policyPath, "policy", "", "the candidate policy `FILE` (required)")
	f.StringVar(&manifest, "manifest", "", "resolve tools and check params with this manifest `FILE`, as the gateway does")
	f.StringVar(&format, "format", "text", "report `format`: text, json or junit")
	f.BoolVar(&failOnChange, "fail-on-change", false, "exit 1 when a call changed or is undetermined")
	_ = cmd.MarkFlagRequired("policy")
	return cmd
}

// loadReplayer loads the candidate configuration as the gateway would.
func loadReplayer(policyPath, manifest string) (*replay.Replayer, error) {
	if manifest != "" {
		// Refuse what the registry would accept but is surely a mistake
		// here, such as an empty file.
		if _, err := readManifest(manifest); err != nil {
			return nil, err
		}
	}
	cfg, err := tower.LoadFiles(tower.Files{Policy: policyPath, Manifest: manifest})
	if err != nil {
		return nil, err
	}
	var opts []replay.Option
	if cfg.Manifest != nil {
		opts = append(opts, replay.WithManifest(cfg.Manifest))
	}
	if cfg.Guard != nil {
		opts = append(opts, replay.WithGuard(cfg.Guard))
	}
	return replay.New(cfg.Policy.(*policy.Policy), opts...), nil
}
