package registry

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// schemaError turns a compile error into a load error at the offending
// keyword.
func schemaError(doc *yamlx.Document, root *yaml.Node, err error) error {
	var (
		invalid  *jsonschema.SchemaValidationError
		badRegex *jsonschema.InvalidRegexError
		load     *jsonschema.LoadURLError
		noPtr    *jsonschema.JSONPointerNotFoundError
		noAnchor *jsonschema.AnchorNotFoundError
	)
	switch {
	case errors.As(err, &invalid):
		if ve, ok := invalid.Err.(*jsonschema.ValidationError); ok {
			leaf, at := firstProblem(root, ve)
			return doc.Errorf(at, "params_schema%s: %s", pointer(leaf.InstanceLocation), metaProblem(leaf, at))
		}
	case errors.As(err, &badRegex):
		at := fragment(badRegex.URL)
		return doc.Errorf(locate(root, at), "params_schema%s: %s", pointer(at), regexProblem(badRegex.Regex, badRegex.Err))
	case errors.As(err, &load):
		key, n := findReference(root, load.URL)
		if key == "$schema" {
			return doc.Errorf(n, "params_schema: $schema %q is not a JSON Schema draft this gateway knows; use draft-04, -06, -07, 2019-09 or 2020-12, or remove $schema for draft-07", refText(n, load.URL))
		}
		return doc.Errorf(n, "params_schema: reference %q points outside the schema; references are never loaded from files or the network, so a manifest is self-contained: move the referenced schema under \"definitions\" and refer to it as \"#/definitions/...\"", refText(n, load.URL))
	case errors.As(err, &noPtr):
		_, n := findReference(root, noPtr.URL)
		return doc.Errorf(n, "params_schema: reference %q points to nothing in the schema; check the path after '#'", refText(n, noPtr.URL))
	case errors.As(err, &noAnchor):
		_, n := findReference(root, noAnchor.Reference)
		return doc.Errorf(n, "params_schema: reference %q names an anchor the schema does not define", refText(n, noAnchor.Reference))
	}
	return doc.Errorf(root, "params_schema does not compile: %v", err)
}

// firstProblem picks, among the keywords a metaschema error blames, the one
// that comes first in the file (jsonschema reports them in map order).
func firstProblem(root *yaml.Node, ve *jsonschema.ValidationError) (*jsonschema.ValidationError, *yaml.Node) {
	var best *jsonschema.ValidationError
	var bestAt *yaml.Node
	for _, leaf := range metaLeaves(nil, ve) {
		at := locate(root, leaf.InstanceLocation)
		if best == nil || at.Line < bestAt.Line || at.Line == bestAt.Line && at.Column < bestAt.Column {
			best, bestAt = leaf, at
		}
	}
	return best, bestAt
}

// metaLeaves follows a metaschema error down to the keywords at fault.
func metaLeaves(out []*jsonschema.ValidationError, ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	switch ve.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		if len(ve.Causes) > 0 {
			for _, c := range ve.Causes {
				out = metaLeaves(out, c)
			}
			return out
		}
	}
	return append(out, ve)
}

var jsonTypes = []string{"string", "integer", "number", "boolean", "object", "array", "null"}

func metaProblem(leaf *jsonschema.ValidationError, at *yaml.Node) string {
	loc := leaf.InstanceLocation
	switch k := leaf.ErrorKind.(type) {
	case *kind.Format:
		if k.Want == "regex" {
			s, _ := k.Got.(string)
			return regexProblem(s, k.Err)
		}
	case *kind.PropertyNames:
		// patternProperties keys must be regular expressions.
		if len(leaf.Causes) > 0 {
			if f, ok := metaLeaves(nil, leaf.Causes[0])[0].ErrorKind.(*kind.Format); ok && f.Want == "regex" {
				return regexProblem(k.Property, f.Err)
			}
		}
	case *kind.AnyOf, *kind.Enum:
		if len(loc) > 0 && loc[len(loc)-1] == "type" {
			bad := at
			if at.Kind == yaml.SequenceNode { // name the wrong item
				for _, item := range at.Content {
					if !slices.Contains(jsonTypes, item.Value) {
						bad = item
						break
					}
				}
			}
			return fmt.Sprintf("type %s is not a JSON Schema type: use %s, or a list of them", yamlx.Describe(bad), strings.Join(jsonTypes, ", "))
		}
	case *kind.Type:
		// YAML 1.1 reads 1e6 as text, so "maximum: 1e6" fails here.
		if s, ok := yamlx.Text(at); ok && at.Style == 0 && k.Got == "string" {
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return fmt.Sprintf("%s; YAML 1.1 reads %s as text (an exponent needs a dot and a sign), write e.g. 1.0e+6 or 1000000", k.LocalizedString(printer), s)
			}
		}
	}
	return leaf.ErrorKind.LocalizedString(printer)
}

// regexProblem explains a pattern Go cannot compile. Tollgate used Python's
// re; Go uses RE2, which guarantees linear-time matching and so has no
// look-arounds or back-references.
func regexProblem(pattern string, err error) string {
	return fmt.Sprintf("pattern '%s' does not compile: %v. Patterns use Go's RE2 syntax; Python-only syntax "+
		"(look-ahead and look-behind (?=...) (?!...) (?<=...) (?<!...), back-references \\1 and (?P=name), \\Z) "+
		"is unsupported: rewrite the pattern without it (\\z ends the text)", pattern, err)
}

// locate returns the YAML node at a JSON-pointer path below n, or the
// deepest node on the way when the path leaves the document.
func locate(n *yaml.Node, path []string) *yaml.Node {
	for _, tok := range path {
		next := child(n, tok)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func child(n *yaml.Node, tok string) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

// findReference finds the $ref (or $schema, $dynamicRef, $recursiveRef)
// whose value the compiler resolved to u; it falls back to the schema root.
func findReference(root *yaml.Node, u string) (string, *yaml.Node) {
	var key string
	found := root
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if n.Kind == yaml.MappingNode && strings.HasPrefix(k.Value, "$") && v.Kind == yaml.ScalarNode && refersTo(v.Value, u) {
				switch k.Value {
				case "$ref", "$schema", "$dynamicRef", "$recursiveRef":
					key, found = k.Value, v
					return true
				}
			}
		}
		for _, c := range n.Content {
			if walk(c) {
				return true
			}
		}
		return false
	}
	walk(root)
	return key, found
}

// refersTo reports whether reference ref, resolved against the schema's
// base, plausibly is u.
func refersTo(ref, u string) bool {
	if ref == "" {
		return false
	}
	base, _, _ := strings.Cut(ref, "#")
	return strings.HasSuffix(u, ref) || (base != "" && strings.Contains(u, base))
}

// refText is a reference as the manifest wrote it when n is that
// reference, else u without the internal base URL.
func refText(n *yaml.Node, u string) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return strings.TrimPrefix(u, schemaURL)
}

// fragment returns the JSON-pointer tokens after '#' in u.
func fragment(u string) []string {
	_, frag, ok := strings.Cut(u, "#")
	if !ok || frag == "" {
		return nil
	}
	var out []string
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if t, err := url.PathUnescape(tok); err == nil {
			tok = t
		}
		out = append(out, strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~"))
	}
	return out
}

// pointer writes path as a JSON pointer ("/properties/path/pattern").
func pointer(path []string) string {
	var b strings.Builder
	for _, tok := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
