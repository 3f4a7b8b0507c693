package netguard

import (
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// ParseConfig reads the `network_policy:` block of a policy file (node is
// its value). Keys, as Tollgate §9.1 plus one of ours:
//
//	network_policy:
//	  default: deny                 # or allow; absent means deny
//	  allowlist:                    # {pattern: ...} maps or bare strings
//	    - pattern: "https://api.github.com/*"
//	    - "https://*.example.com/*"
//	  blocklist: ["http://*", "*.internal.*"]
//	  param_fields_to_check: [url]  # absent, null or [] = every parameter
//	  allow_private: ["10.1.0.0/16", "localhost"]
//
// Unlike Tollgate, which silently drops list entries without a `pattern`
// key, every entry must be a pattern; unknown keys and invalid patterns are
// errors naming file:line:col.
func ParseConfig(doc *yamlx.Document, node *yaml.Node) (Config, error) {
	pairs, err := doc.Mapping(node, "network_policy")
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Default: "deny"}
	for _, kv := range pairs {
		v := kv.ValueNode
		switch kv.Key {
		case "default":
			val, err := doc.Value(v)
			if err != nil {
				return Config{}, err
			}
			if s, _ := val.(string); s != "deny" && s != "allow" {
				return Config{}, doc.Errorf(v, "default must be 'deny' or 'allow', got %s", yamlx.Describe(v))
			}
			cfg.Default = val.(string)
		case "allowlist":
			cfg.Allowlist, err = parsePatterns(doc, v, "allowlist")
		case "blocklist":
			cfg.Blocklist, err = parsePatterns(doc, v, "blocklist")
		case "param_fields_to_check":
			cfg.ParamFields, err = parseStrings(doc, v, "param_fields_to_check", "a parameter name", nil)
		case "allow_private":
			cfg.AllowPrivate, err = parseStrings(doc, v, "allow_private", "a CIDR, IP address or host name",
				func(s string) error { return new(allowPrivate).add(s) })
		default:
			return Config{}, doc.Errorf(kv.KeyNode, "unknown key %q in network_policy (valid keys: default, allowlist, blocklist, param_fields_to_check, allow_private)", kv.Key)
		}
		if err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// parsePatterns reads a list whose items are pattern strings or
// {pattern: ...} maps, compiling each to report errors where they are.
func parsePatterns(doc *yamlx.Document, n *yaml.Node, what string) ([]string, error) {
	if yamlx.IsNull(n) {
		return nil, nil
	}
	items, err := doc.Sequence(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		pn := item
		if item.Kind == yaml.MappingNode {
			pairs, _ := doc.Mapping(item, what)
			pn = nil
			for _, kv := range pairs {
				if kv.Key != "pattern" {
					return nil, doc.Errorf(kv.KeyNode, "%s[%d]: unknown key %q (only 'pattern' is read; put notes in YAML comments)", what, i, kv.Key)
				}
				pn = kv.ValueNode
			}
			if pn == nil {
				return nil, doc.Errorf(item, "%s[%d]: missing 'pattern' key", what, i)
			}
		}
		s, err := stringItem(doc, pn, what, i, "a URL pattern")
		if err != nil {
			return nil, err
		}
		if _, err := CompilePattern(s); err != nil {
			return nil, doc.Errorf(pn, "%s[%d]: %v", what, i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// parseStrings reads a list of strings (null is an empty list), checking
// each with check when it is not nil.
func parseStrings(doc *yamlx.Document, n *yaml.Node, what, want string, check func(string) error) ([]string, error) {
	if yamlx.IsNull(n) {
		return nil, nil
	}
	items, err := doc.Sequence(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := stringItem(doc, item, what, i, want)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(s); err != nil {
				return nil, doc.Errorf(item, "%s[%d]: %v", what, i, err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// stringItem returns the text of a list item that must be a non-empty
// string (YAML 1.1 reads yes, 1.0 and ~ as other types: quote them).
func stringItem(doc *yamlx.Document, n *yaml.Node, what string, i int, want string) (string, error) {
	v, err := doc.Value(n)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", doc.Errorf(n, "%s[%d]: want %s as a non-empty string, got %s (quote it)", what, i, want, yamlx.Describe(n))
	}
	return s, nil
}
