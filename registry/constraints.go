package registry

import (
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/yamlx"
	"github.com/tollgate-go/tollgate/netguard"
)

// constraints is a tool's compiled constraints block.
type constraints struct {
	allowed, blocked []*netguard.Pattern
	params           []paramConstraint // in manifest order
}

// paramConstraint restricts one top-level parameter.
type paramConstraint struct {
	name       string
	hasAllowed bool
	allowed    []any // allowed_values; empty means no value is allowed
	pattern    *regexp.Regexp
}

// parseConstraints returns nil for an empty block.
func parseConstraints(doc *yamlx.Document, n *yaml.Node) (*constraints, error) {
	fields, err := doc.Mapping(n, "constraints")
	if err != nil {
		return nil, err
	}
	c := &constraints{}
	for _, f := range fields {
		switch f.Key {
		case "allowed_url_patterns":
			c.allowed, err = parseURLPatterns(doc, f)
		case "blocked_url_patterns":
			c.blocked, err = parseURLPatterns(doc, f)
		case "param_constraints":
			c.params, err = parseParamConstraints(doc, f.ValueNode)
		default:
			err = doc.Errorf(f.KeyNode, "unknown constraint %q: allowed are allowed_url_patterns, blocked_url_patterns and param_constraints", f.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(c.allowed)+len(c.blocked)+len(c.params) == 0 {
		return nil, nil
	}
	return c, nil
}

func parseURLPatterns(doc *yamlx.Document, f yamlx.Pair) ([]*netguard.Pattern, error) {
	items, err := doc.Sequence(f.ValueNode, f.Key)
	if err != nil {
		return nil, err
	}
	out := make([]*netguard.Pattern, 0, len(items))
	for _, item := range items {
		s, err := text(doc, item, f.Key+" entry")
		if err != nil {
			return nil, err
		}
		p, err := netguard.CompilePattern(s)
		if err != nil {
			return nil, doc.Errorf(item, "%v; a pattern is scheme://host[:port][/path] with * ? [...] globs, e.g. https://*.example.com/*", err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseParamConstraints(doc *yamlx.Document, n *yaml.Node) ([]paramConstraint, error) {
	params, err := doc.Mapping(n, "param_constraints")
	if err != nil {
		return nil, err
	}
	var out []paramConstraint
	for _, p := range params {
		rules, err := doc.Mapping(p.ValueNode, "param_constraints for '"+p.Key+"'")
		if err != nil {
			return nil, err
		}
		pc := paramConstraint{name: p.Key}
		for _, r := range rules {
			switch r.Key {
			case "allowed_values":
				err = pc.parseAllowed(doc, r.ValueNode)
			case "pattern":
				err = pc.parsePattern(doc, r.ValueNode)
			default:
				err = doc.Errorf(r.KeyNode, "unknown parameter constraint %q for '%s': allowed are allowed_values and pattern", r.Key, p.Key)
			}
			if err != nil {
				return nil, err
			}
		}
		if pc.hasAllowed || pc.pattern != nil {
			out = append(out, pc)
		}
	}
	return out, nil
}

func (pc *paramConstraint) parseAllowed(doc *yamlx.Document, n *yaml.Node) error {
	if _, err := doc.Sequence(n, "allowed_values"); err != nil {
		return err
	}
	v, err := doc.Value(n)
	if err != nil {
		return err
	}
	pc.allowed, pc.hasAllowed = v.([]any), true
	return nil
}

func (pc *paramConstraint) parsePattern(doc *yamlx.Document, n *yaml.Node) error {
	s, err := text(doc, n, "pattern")
	if err != nil {
		return err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return doc.Errorf(n, "param_constraints for '%s': %s", pc.name, regexProblem(s, err))
	}
	pc.pattern = re
	return nil
}

// CheckConstraints checks params against the tool's constraints block and
// returns one violation per broken rule, in Tollgate's order and wording:
// URL rules first, then param_constraints in manifest order.
//
// Unlike Tollgate, URL rules see every URL of any scheme in every string in
// params at any depth, found as netguard.FindURLs finds them (wrapped as
// "url:...", "<URL:...>" or "jar:...", inside text or a JSON document, or
// scheme-relative), and URL-shaped text that cannot be parsed safely is a
// violation (it cannot be shown to be allowed). Blocked patterns also
// match IPv6 addresses that carry a blocked IPv4 address (Pattern.Blocks). A pattern
// constraint refuses non-string values, which Tollgate let through.
func (t *Tool) CheckConstraints(params tollgate.Params) []tollgate.Violation {
	if t == nil || t.constraints == nil {
		return nil
	}
	c := t.constraints
	var out []tollgate.Violation
	if len(c.allowed)+len(c.blocked) > 0 {
		netguard.WalkStrings(params, func(path, s string) {
			out = c.checkURL(out, path, s)
		})
	}
	for i := range c.params {
		pc := &c.params[i]
		if v, ok := params.Get(pc.name); ok {
			out = pc.check(out, v)
		}
	}
	return out
}

// checkURL checks every URL netguard.FindURLs finds in s (the string as a
// whole once unwrapped, each scheme:// or //host in it, the strings of a
// JSON document it holds), so every URL in it must be allowed.
func (c *constraints) checkURL(out []tollgate.Violation, path, s string) []tollgate.Violation {
	netguard.FindURLs(s, func(text string, u *netguard.URL, err error) {
		if err != nil {
			out = append(out, tollgate.Violation{Field: path, Description: fmt.Sprintf("Parameter '%s': URL '%s' cannot be checked against the URL patterns: %v", path, text, err)})
			return
		}
		for _, p := range c.blocked {
			if p.Blocks(u) {
				out = append(out, tollgate.Violation{Field: path, Description: fmt.Sprintf("Parameter '%s': URL '%s' matches blocked pattern '%s'", path, text, p)})
			}
		}
		if len(c.allowed) > 0 && !matchesAny(c.allowed, u) {
			out = append(out, tollgate.Violation{Field: path, Description: fmt.Sprintf("Parameter '%s': URL '%s' does not match any allowed URL pattern", path, text)})
		}
	})
	return out
}

func matchesAny(patterns []*netguard.Pattern, u *netguard.URL) bool {
	for _, p := range patterns {
		if p.Match(u) {
			return true
		}
	}
	return false
}

func (pc *paramConstraint) check(out []tollgate.Violation, v any) []tollgate.Violation {
	if pc.hasAllowed && !containsEqual(pc.allowed, v) {
		out = append(out, tollgate.Violation{Field: pc.name, Description: fmt.Sprintf("Parameter '%s': value %s not in allowed_values %s", pc.name, pycompat.Repr(v), pycompat.Repr(pc.allowed))})
	}
	if pc.pattern != nil {
		s, ok := v.(string)
		switch {
		case !ok:
			out = append(out, tollgate.Violation{Field: pc.name, Description: fmt.Sprintf("Parameter '%s': value %s is not a string, so it cannot match pattern '%s'", pc.name, pycompat.Repr(v), pc.pattern)})
		case !pc.pattern.MatchString(s):
			out = append(out, tollgate.Violation{Field: pc.name, Description: fmt.Sprintf("Parameter '%s': value does not match pattern '%s'", pc.name, pc.pattern)})
		}
	}
	return out
}

// containsEqual is Python's "v in list": 1 == 1.0 == True.
func containsEqual(list []any, v any) bool {
	for _, e := range list {
		if pycompat.Equal(v, e) {
			return true
		}
	}
	return false
}
