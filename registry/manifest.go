package registry

import (
	"bytes"
	"encoding/json"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// Manifest is a loaded tool manifest. It is immutable and safe for
// concurrent use.
type Manifest struct {
	version string
	hash    string
	tools   map[string]*Tool // resolvable entries only
	keys    []string         // every entry, sorted
}

// Parse parses a manifest from data; name is used in error messages
// (normally the file path). It checks no signature: use Load for that.
func Parse(name string, data []byte) (*Manifest, error) {
	doc, err := yamlx.Parse(name, data)
	if err != nil {
		return nil, err
	}
	m := &Manifest{hash: Hash(data), tools: map[string]*Tool{}}
	if err := m.parse(doc); err != nil {
		return nil, err
	}
	if m.version == "" {
		m.version = textHash(data)
	}
	slices.Sort(m.keys)
	return m, nil
}

func (m *Manifest) parse(doc *yamlx.Document) error {
	if yamlx.IsNull(doc.Root) {
		return nil // an empty file is a manifest without tools, as in Tollgate
	}
	pairs, err := doc.Mapping(doc.Root, "the manifest")
	if err != nil {
		return err
	}
	for _, p := range pairs {
		switch p.Key {
		case "version":
			if m.version, err = parseVersion(doc, p.ValueNode); err != nil {
				return err
			}
		case "tools":
			if err := m.parseTools(doc, p.ValueNode); err != nil {
				return err
			}
		default:
			return doc.Errorf(p.KeyNode, "unknown top-level key %q: a manifest has only \"version\" and \"tools\" (Tollgate ignored other keys; check the spelling, or the indentation of a tool entry)", p.Key)
		}
	}
	return nil
}

// parseVersion returns Python's str() of the version value, as Tollgate
// does: version: 1.10 is "1.1", version: yes is "True". Quote versions to
// keep them as written.
func parseVersion(doc *yamlx.Document, n *yaml.Node) (string, error) {
	v, err := doc.Value(n)
	if err != nil {
		return "", err
	}
	switch v.(type) {
	case string, bool, json.Number:
		if s := pyStr(v); s != "" {
			return s, nil
		}
	}
	return "", doc.Errorf(n, "version must be a non-empty text such as \"1.0.0\", got %s; quote it, or remove the key to version the manifest by a hash of its content", yamlx.Describe(n))
}

func (m *Manifest) parseTools(doc *yamlx.Document, n *yaml.Node) error {
	if yamlx.IsNull(n) || n.Kind != yaml.MappingNode {
		return doc.Errorf(n, "Manifest 'tools' must be a dictionary. Got %s; write one entry per tool key, e.g. tools: {\"api:fetch\": {effect: read}}", yamlx.Describe(n))
	}
	pairs, err := doc.Mapping(n, "tools")
	if err != nil {
		return err
	}
	for _, p := range pairs {
		if p.KeyNode.Kind != yaml.ScalarNode {
			return doc.Errorf(p.KeyNode, "a tool key must be text such as \"api:fetch\", got %s", yamlx.Describe(p.KeyNode))
		}
		t, err := parseTool(doc, p)
		if err != nil {
			return err
		}
		m.keys = append(m.keys, p.Key)
		if t != nil {
			m.tools[p.Key] = t
		}
	}
	return nil
}

// Resolve returns the entry for tool, matched exactly and case-sensitively.
// An empty entry ("x": {}) is not found, as in Tollgate. The Tool is shared
// by all callers: read it, never modify it.
func (m *Manifest) Resolve(tool string) (*Tool, bool) {
	if m == nil {
		return nil, false
	}
	t, ok := m.tools[tool]
	return t, ok
}

// Version is the manifest's version: the text of its version key, or the
// first 8 hex digits of the SHA-256 of its LF-normalised text when it has
// none (Tollgate's rule; an empty file gives "e3b0c442").
func (m *Manifest) Version() string { return m.version }

// Hash is the SHA-256 (lower-case hex) of the manifest's raw bytes, for
// audit trails.
func (m *Manifest) Hash() string { return m.hash }

// Tools returns every tool key in the manifest, sorted, including empty
// entries that Resolve does not find.
func (m *Manifest) Tools() []string { return slices.Clone(m.keys) }

// textHash is Tollgate's default version: the file read as text (universal
// newlines), hashed, first 8 hex digits.
func textHash(data []byte) string {
	text := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	text = bytes.ReplaceAll(text, []byte("\r"), []byte("\n"))
	return Hash(text)[:8]
}

// pyStr is Python's str() of a YAML value, for messages that Tollgate
// formatted with str().
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pycompat.Repr(v)
}
