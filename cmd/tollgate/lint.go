package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
)

func (a *app) lintCmd() *cobra.Command {
	var (
		policies, manifests         []string
		descriptorSets, toolMethods []string
		format                      string
		strict                      bool
	)
	cmd := &cobra.Command{
		Use:   "lint [--policy P]... [--manifest M]... [--descriptor-set FILE]...",
		Short: "Find mistakes in policies and manifests (exit 1 on errors)",
		Long: `lint loads every policy and manifest and reports:

  errors (exit 1)
    load          what the gateway would refuse to load, with file:line:column
  warnings (exit 0; exit 1 with --strict)
    policy        what the policy loader flags: conditions that can never match,
                  a numeric version, duplicate rule ids
    shadowed      a rule that can never match because an earlier rule has a
                  subset of its conditions (so matches every call it matches)
  with --manifest:
    never-matches a rule whose tool, effect or resource_type no manifest tool
                  has: the gateway takes these from the manifest, and denies
                  tools the manifest lacks before the rules are consulted
    allow-downgraded an ALLOW rule for a tool no manifest lists: its calls carry
                  no trusted metadata, so Tollgate 1.4.0 downgrades the ALLOW
                  to ASK (and this gateway denies them as unknown tools)
    when-param    a when: key that names a parameter of the rule's tool:
                  when: reads the call's metadata, which the caller sets, not
                  its parameters; constrain parameters in the manifest
                  (params_schema, constraints) instead
  with --manifest and --descriptor-set:
    unknown-field (error) a params_schema property or required entry (nested
                  ones too) or a param_constraints key that is no field of
                  the tool's request message. Params are the request with
                  proto field names (ticket_id, not the JSON name ticketId),
                  so such a name is never present and its rules never run.
    unknown-method a tool key naming a method its service does not have

A tool's method is its key when the key is a full method name (the
interceptors' default, /tickets.v1.TicketService/CloseTicket); map other keys
with --tool-method KEY=/pkg.Service/Method. Tools of services the descriptor
sets do not contain are not checked.

Metadata keys are not declared anywhere, so lint cannot tell which ones callers
send; it only flags when: keys that are parameter names. With several manifests,
a tool, effect or resource type counts as known if any manifest has it.

Exit codes: 0 no errors (and no warnings with --strict), 1 errors (or warnings
with --strict), 2 usage error or a file that cannot be read as YAML (missing,
a directory, empty, binary, too large, a syntax error, too deep, an alias bomb).`,
		Example: `  tollgate lint --policy policy.yaml --manifest manifest.yaml
  tollgate lint --policy a.yaml --policy b.yaml --strict
  tollgate lint --policy policy.yaml --manifest manifest.yaml --format json
  buf build -o tickets.binpb && tollgate lint --manifest manifest.yaml --descriptor-set tickets.binpb
  protoc --include_imports --descriptor_set_out=api.pb api.proto &&
    tollgate lint --manifest m.yaml --descriptor-set api.pb --tool-method api:close=/tickets.v1.TicketService/CloseTicket`,
		Args: args(0, "no arguments (use --policy and --manifest)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := oneOf(cmd, "format", format, "text", "json"); err != nil {
				return err
			}
			if len(policies) == 0 && len(manifests) == 0 {
				return usageError(cmd, "nothing to lint: give --policy or --manifest")
			}
			if len(descriptorSets) > 0 && len(manifests) == 0 {
				return usageError(cmd, "--descriptor-set checks manifests: give --manifest too")
			}
			svcs, err := loadServices(descriptorSets, toolMethods)
			if err != nil {
				return err
			}
			findings, err := lint(policies, manifests, svcs)
			if err != nil {
				return err
			}
			if format == "json" {
				err = writeFindingsJSON(a.stdout, findings)
			} else {
				err = writeFindingsText(a.stdout, findings, len(policies)+len(manifests))
			}
			if err != nil {
				return err
			}
			errs, warns := count(findings)
			if errs > 0 || (strict && warns > 0) {
				return exit(exitFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&policies, "policy", nil, "policy `FILE` (repeatable)")
	f.StringArrayVar(&manifests, "manifest", nil, "manifest `FILE` (repeatable)")
	f.StringArrayVar(&descriptorSets, "descriptor-set", nil, "FileDescriptorSet `FILE` of the gated services (protoc --include_imports --descriptor_set_out, buf build -o; repeatable): check the manifest's field names against the request messages")
	f.StringArrayVar(&toolMethods, "tool-method", nil, "`TOOL=/pkg.Service/Method`: the method of a manifest key that is not a method name (interceptor.WithToolNames; repeatable)")
	f.StringVar(&format, "format", "text", "output `format`: text or json")
	f.BoolVar(&strict, "strict", false, "exit 1 on warnings too")
	return cmd
}

// Severities.
const (
	sevError   = "error"
	sevWarning = "warning"
)

// finding is one lint result.
type finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Check    string `json:"check"`
	Message  string `json:"message"`
}

// lint checks the files. The error is for files that cannot be read as YAML
// at all (exit 2); everything else is a finding.
// svcs, when not nil, is what --descriptor-set says about the services.
func lint(policies, manifests []string, svcs *services) ([]finding, error) {
	var out []finding
	var known []*manifestInfo
	manifestsLoaded := true
	for _, path := range manifests {
		doc, data, err := readYAML(path)
		if err != nil {
			return nil, err
		}
		m, err := registry.Parse(path, data)
		if err != nil {
			out = append(out, loadFindings(path, err)...)
			manifestsLoaded = false
			continue
		}
		known = append(known, newManifestInfo(doc, m))
		if svcs != nil {
			out = append(out, byPosition(svcs.lintFields(doc))...)
		}
	}
	if !manifestsLoaded {
		known = nil // checks against a partial tool list would mislead
	}
	for _, path := range policies {
		doc, data, err := readYAML(path)
		if err != nil {
			return nil, err
		}
		p, err := policy.Parse(path, data)
		if err != nil {
			out = append(out, loadFindings(path, err)...)
			continue
		}
		var fs []finding
		for _, w := range p.Warnings() {
			fs = append(fs, parseFinding(path, sevWarning, "policy", w))
		}
		fs = append(fs, lintRules(doc, p, known)...)
		out = append(out, byPosition(fs)...)
	}
	return out, nil
}

// byPosition sorts one file's findings by line and column.
func byPosition(fs []finding) []finding {
	slices.SortStableFunc(fs, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return fs
}

// readYAML reads a file and parses it as YAML: a file that fails here is an
// input error (exit 2), not a lint finding.
func readYAML(path string) (*yamlx.Document, []byte, error) {
	data, err := readFile(path, maxConfigSize)
	if err != nil {
		return nil, nil, err
	}
	doc, err := yamlx.Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	return doc, data, nil
}

// loadFindings turns a load error (possibly several joined) into findings.
func loadFindings(path string, err error) []finding {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]finding, 0, len(errs))
	for _, e := range errs {
		out = append(out, parseFinding(path, sevError, "load", e.Error()))
	}
	return out
}

// parseFinding splits a "file:line:col: message" text into a finding.
func parseFinding(path, severity, check, text string) finding {
	f := finding{File: path, Severity: severity, Check: check, Message: text}
	rest, ok := strings.CutPrefix(text, path+":")
	if !ok {
		return f
	}
	if _, err := fmt.Sscanf(rest, "%d:%d:", &f.Line, &f.Column); err == nil {
		_, f.Message, _ = strings.Cut(rest, ": ")
		return f
	}
	if _, err := fmt.Sscanf(rest, "%d:", &f.Line); err == nil {
		_, f.Message, _ = strings.Cut(rest, ": ")
		return f
	}
	f.Message = strings.TrimPrefix(rest, " ")
	return f
}

func count(fs []finding) (errs, warns int) {
	for _, f := range fs {
		if f.Severity == sevError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func writeFindingsText(w io.Writer, fs []finding, files int) error {
	var b strings.Builder
	for _, f := range fs {
		switch {
		case f.Line > 0 && f.Column > 0:
			fmt.Fprintf(&b, "%s:%d:%d: ", f.File, f.Line, f.Column)
		case f.Line > 0:
			fmt.Fprintf(&b, "%s:%d: ", f.File, f.Line)
		default:
			fmt.Fprintf(&b, "%s: ", f.File)
		}
		fmt.Fprintf(&b, "%s: %s [%s]\n", f.Severity, f.Message, f.Check)
	}
	errs, warns := count(fs)
	if errs+warns == 0 {
		fmt.Fprintf(&b, "OK: no problems in %d file(s)\n", files)
	} else {
		fmt.Fprintf(&b, "%d error(s), %d warning(s)\n", errs, warns)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFindingsJSON(w io.Writer, fs []finding) error {
	errs, warns := count(fs)
	if fs == nil {
		fs = []finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []finding `json:"findings"`
		Errors   int       `json:"errors"`
		Warnings int       `json:"warnings"`
	}{fs, errs, warns})
}
