package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/policytest"
	"github.com/tollgate-go/tollgate/tower"
)

func (a *app) checkCmd() *cobra.Command {
	var (
		policyPath, manifest, callPath, format, agentSecretEnv string
		explain                                                bool
	)
	cmd := &cobra.Command{
		Use:   "check --policy P [--manifest M] --call FILE|-",
		Short: "Show what the gateway would decide for one call, and why (exit 0 ALLOW, 3 ASK, 4 DENY)",
		Long: `check runs one call through every decision stage of the gateway without
executing anything or writing audit records: identity (with
--agent-hmac-secret-env), rate limits and network policy (from the policy file's
rate_limits: and network_policy: blocks), manifest resolution, policy, parameter
schema and constraints. ASK stays ASK: no grant store or approver is consulted.

The call is a YAML or JSON mapping in the shape of a scenario without
expected (name, description and expected are accepted and ignored, so a
scenario can be pasted):

  {"agent": {"agent_id": "worker", "version": "1.0", "owner": "team",
             "delegated_by": ["orchestrator"]},
   "intent": {"action": "write_data", "reason": "nightly export"},
   "tool_request": {"tool": "api:write_file", "action": "write",
                    "params": {"path": "/safe/out.txt", "content": "hi"}}}

As in production, effect, resource_type and manifest_version come from the
manifest, never from the call; without --manifest every tool is unknown, so
denied. Unknown keys and invalid effects are errors.

--explain adds the policy trace: the rule that matched and, for each earlier
rule, the condition that failed.

Exit codes: 0 ALLOW, 3 ASK, 4 DENY (or refused by any stage), 2 usage or
configuration error.`,
		Example: `  tollgate check --policy policy.yaml --manifest manifest.yaml --call call.json
  tollgate check --policy policy.yaml --manifest manifest.yaml --call call.yaml --explain
  echo '{"tool_request": {"tool": "api:fetch_data"}}' | \
    tollgate check --policy policy.yaml --manifest manifest.yaml --call - --format json`,
		Args: args(0, "no arguments (use --policy, --manifest and --call)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := oneOf(cmd, "format", format, "text", "json"); err != nil {
				return err
			}
			var opts []tower.Option
			if agentSecretEnv != "" {
				secret, err := secretFromEnv(agentSecretEnv)
				if err != nil {
					return err
				}
				opts = append(opts, tower.WithVerifier(identity.NewLegacyHMAC(secret)))
			}
			data, name, err := a.readInput(callPath, policytest.MaxCallSize)
			if err != nil {
				return err
			}
			call, err := policytest.ParseCall(name, data)
			if err != nil {
				return err
			}
			if manifest != "" {
				// Refuse what the registry would accept but is surely a
				// mistake here, such as an empty file.
				if _, err := readManifest(manifest); err != nil {
					return err
				}
			}
			cfg, err := tower.LoadFiles(tower.Files{Policy: policyPath, Manifest: manifest})
			if err != nil {
				return err
			}
			t, err := tower.New(cfg, opts...)
			if err != nil {
				return err
			}
			v := t.Decide(context.Background(), tower.Call{
				Credentials: identity.Credentials{Claimed: call.Agent},
				Intent:      call.Intent,
				Request:     call.Request,
			})
			rep := newCheckReport(v, manifest != "")
			if explain {
				if p, ok := cfg.Policy.(*policy.Policy); ok {
					e := p.Explain(v.Agent, call.Intent, v.Request)
					rep.Explain = &e
				}
			}
			if format == "json" {
				err = rep.writeJSON(a.stdout)
			} else {
				err = rep.writeText(a.stdout)
			}
			if err != nil {
				return err
			}
			return exitForVerdict(v)
		},
	}
	f := cmd.Flags()
	f.StringVar(&policyPath, "policy", "", "policy `FILE` (required)")
	f.StringVar(&manifest, "manifest", "", "manifest `FILE` (trusted tool metadata, schemas, constraints)")
	f.StringVar(&callPath, "call", "", "the call, a YAML or JSON `FILE`, or - for standard input (required)")
	f.BoolVar(&explain, "explain", false, "add the policy trace: the matching rule and why each earlier rule did not match")
	f.StringVar(&format, "format", "text", "output `format`: text or json")
	f.StringVar(&agentSecretEnv, "agent-hmac-secret-env", "", "verify the agent's legacy Tollgate HMAC signature (agent.metadata._signature) with the secret in environment variable `VAR`")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("call")
	return cmd
}

// exitForVerdict maps a verdict to check's exit code.
func exitForVerdict(v tower.Verdict) error {
	switch {
	case v.Err != nil || v.Decision.Type == tollgate.Deny:
		return exit(exitDenied)
	case v.Decision.Type == tollgate.Ask:
		return exit(exitAsk)
	}
	return nil
}

// checkReport is what check prints.
type checkReport struct {
	Decision      tollgate.DecisionType
	Stage         tollgate.Stage
	ReasonCode    tollgate.Reason
	Reason        string
	Message       string
	PolicyID      string
	PolicyVersion string
	Request       tollgate.ToolRequest
	Agent         tollgate.Agent
	GrantID       string
	Violations    []tollgate.Violation
	Notes         []string
	Explain       *policy.Explanation
}

func newCheckReport(v tower.Verdict, haveManifest bool) *checkReport {
	r := &checkReport{
		Decision:      v.Decision.Type,
		Stage:         tollgate.StagePolicy,
		Reason:        v.Decision.Reason,
		PolicyID:      v.Decision.PolicyID,
		PolicyVersion: v.Decision.PolicyVersion,
		Request:       v.Request,
		Agent:         v.Agent,
		GrantID:       v.GrantID,
	}
	if v.Err != nil {
		r.Decision = tollgate.Deny
		r.Stage, r.ReasonCode, r.Message = v.Err.Stage, v.Err.Reason, v.Err.Message
		r.Violations = v.Err.Violations
	}
	if !haveManifest {
		r.Notes = append(r.Notes, "no --manifest: every tool is unknown to the gateway, so every call is denied")
	} else if v.Request.ManifestVersion == "" {
		r.Notes = append(r.Notes, fmt.Sprintf("tool %q is not in the manifest, so its effect is unknown", v.Request.Tool))
	}
	return r
}

func (r *checkReport) writeText(w io.Writer) error {
	var b strings.Builder
	line := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(&b, "%-15s %s\n", k+":", v)
	}
	line("decision", string(r.Decision))
	line("stage", string(r.Stage))
	line("reason_code", string(r.ReasonCode))
	line("reason", r.Reason)
	line("message", r.Message)
	line("policy_id", r.PolicyID)
	line("policy_version", r.PolicyVersion)
	q := r.Request
	line("tool", fmt.Sprintf("%s (effect %s, resource_type %s, manifest_version %s)", q.Tool, q.Effect, q.ResourceType, orDash(q.ManifestVersion)))
	line("agent", agentText(r.Agent))
	if r.GrantID != "" {
		line("grant_id", r.GrantID)
	}
	for _, v := range r.Violations {
		line("violation", v.Description)
	}
	for _, n := range r.Notes {
		line("note", n)
	}
	if r.Explain != nil {
		b.WriteString("explain:\n")
		for _, l := range strings.Split(r.Explain.String(), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func agentText(a tollgate.Agent) string {
	s := a.ID
	if a.IsDelegated() {
		s += " (delegated by " + strings.Join(a.DelegatedBy, " → ") + ")"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type checkJSON struct {
	Decision      string           `json:"decision"`
	Stage         string           `json:"stage"`
	ReasonCode    *string          `json:"reason_code"`
	Reason        string           `json:"reason"`
	Message       *string          `json:"message"`
	PolicyID      *string          `json:"policy_id"`
	PolicyVersion *string          `json:"policy_version"`
	Request       checkJSONRequest `json:"tool_request"`
	Agent         checkJSONAgent   `json:"agent"`
	GrantID       *string          `json:"grant_id"`
	Violations    []checkJSONViol  `json:"violations"`
	Notes         []string         `json:"notes"`
	Explain       *checkJSONTrace  `json:"explain,omitempty"`
}

type checkJSONRequest struct {
	Tool            string  `json:"tool"`
	Action          string  `json:"action"`
	ResourceType    string  `json:"resource_type"`
	Effect          string  `json:"effect"`
	ManifestVersion *string `json:"manifest_version"`
}

type checkJSONAgent struct {
	AgentID     string   `json:"agent_id"`
	Version     string   `json:"version"`
	Owner       string   `json:"owner"`
	DelegatedBy []string `json:"delegated_by"`
}

type checkJSONViol struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

type checkJSONTrace struct {
	Decision string          `json:"decision"`
	Reason   string          `json:"reason"`
	Matched  *checkJSONRule  `json:"matched"`
	Note     *string         `json:"note"`
	Misses   []checkJSONMiss `json:"misses"`
}

type checkJSONRule struct {
	Index int     `json:"index"`
	ID    *string `json:"id"`
	Line  int     `json:"line"`
}

type checkJSONMiss struct {
	checkJSONRule
	Why string `json:"why"`
}

func (r *checkReport) writeJSON(w io.Writer) error {
	out := checkJSON{
		Decision:      string(r.Decision),
		Stage:         string(r.Stage),
		ReasonCode:    nullable(string(r.ReasonCode)),
		Reason:        r.Reason,
		Message:       nullable(r.Message),
		PolicyID:      nullable(r.PolicyID),
		PolicyVersion: nullable(r.PolicyVersion),
		Request: checkJSONRequest{
			Tool: r.Request.Tool, Action: r.Request.Action, ResourceType: r.Request.ResourceType,
			Effect: string(r.Request.Effect), ManifestVersion: nullable(r.Request.ManifestVersion),
		},
		Agent: checkJSONAgent{
			AgentID: r.Agent.ID, Version: r.Agent.Version, Owner: r.Agent.Owner,
			DelegatedBy: append([]string{}, r.Agent.DelegatedBy...),
		},
		GrantID:    nullable(r.GrantID),
		Violations: []checkJSONViol{},
		Notes:      append([]string{}, r.Notes...),
	}
	for _, v := range r.Violations {
		out.Violations = append(out.Violations, checkJSONViol{v.Field, v.Description})
	}
	if e := r.Explain; e != nil {
		t := &checkJSONTrace{
			Decision: string(e.Decision.Type), Reason: e.Decision.Reason,
			Note: nullable(e.Note), Misses: []checkJSONMiss{},
		}
		if e.Matched != nil {
			t.Matched = &checkJSONRule{e.Matched.Index, nullable(e.Matched.ID), e.Matched.Line}
		}
		for _, m := range e.Misses {
			t.Misses = append(t.Misses, checkJSONMiss{checkJSONRule{m.Rule.Index, nullable(m.Rule.ID), m.Rule.Line}, m.Why})
		}
		out.Explain = t
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
