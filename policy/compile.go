package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// The keys each level of a policy file accepts. Tollgate ignored any other
// key, so a typo silently widened a rule; here it is a load error.
var (
	topKeys    = []string{"version", "rules", "rate_limits", "network_policy"}
	ruleKeys   = []string{"id", "decision", "reason", "metadata", "ask_mode", "approvals_required", "tool", "action", "resource_type", "effect", "agent", "intent", "when"}
	agentKeys  = []string{"agent_id", "version", "owner", "environment", "role", "deny_delegated", "max_delegation_depth", "allowed_delegators", "blocked_delegators"}
	intentKeys = []string{"action", "reason", "session_id"}
	opKeys     = []string{"==", "!=", ">", ">=", "<", "<="}
)

// maxErrors caps how many load errors one file reports.
const maxErrors = 20

// compiler turns a parsed policy document into a Policy, collecting every
// error (up to maxErrors) so one run shows all that needs fixing.
type compiler struct {
	doc   *yamlx.Document
	errs  []error
	warns []string
	ids   map[string]int // rule id → first index using it
}

func (c *compiler) add(err error) {
	if len(c.errs) < maxErrors {
		c.errs = append(c.errs, err)
	}
}

func (c *compiler) errorf(n *yaml.Node, format string, args ...any) {
	c.add(c.doc.Errorf(n, format, args...))
}

func (c *compiler) warnf(n *yaml.Node, format string, args ...any) {
	c.warns = append(c.warns, c.doc.Errorf(n, format, args...).Error())
}

func compile(doc *yamlx.Document, data []byte) (*Policy, error) {
	if doc.Root == nil {
		return nil, &yamlx.Error{File: doc.File, Msg: "policy file is empty; want a mapping with a rules: list (Tollgate crashed on an empty file)"}
	}
	top, err := doc.Mapping(doc.Root, "the policy file")
	if err != nil {
		return nil, err
	}
	c := &compiler{doc: doc, ids: make(map[string]int)}
	p := &Policy{hash: contentHash(data)}
	p.version = p.hash[:8]
	var kept []yamlx.Pair // sections for other packages
	for i := range top {
		kv := &top[i]
		switch kv.Key {
		case "version":
			if v, ok := c.version(kv); ok {
				p.version = v
			}
		case "rules":
			p.rules = c.rules(kv)
		case "rate_limits", "network_policy":
			// Read by packages ratelimit and netguard through Section.
			kept = append(kept, *kv)
		default:
			c.unknownKey(kv, "", "top-level key", topKeys)
		}
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	p.warnings = c.warns
	p.index = buildIndex(p.rules)
	p.doc, p.top = withOnly(doc, kept), kept
	return p, nil
}

// withOnly returns the document cut down to the given top-level pairs.
// The policy keeps only the sections Section serves: once the rules are
// compiled their syntax tree is dropped, since it was most of the memory a
// loaded policy kept (20 of 26 MiB for 10,000 rules).
func withOnly(doc *yamlx.Document, pairs []yamlx.Pair) *yamlx.Document {
	root := *doc.Root
	root.Content = make([]*yaml.Node, 0, 2*len(pairs))
	for _, kv := range pairs {
		root.Content = append(root.Content, kv.KeyNode, kv.ValueNode)
	}
	return &yamlx.Document{File: doc.File, Root: &root}
}

// unknownKey reports a key outside allowed, suggesting the nearest one.
// where locates the mapping ("" for the top level), kind names the key.
func (c *compiler) unknownKey(kv *yamlx.Pair, where, kind string, allowed []string) {
	name := strconv.Quote(kv.Key)
	if kv.KeyNode.Kind != yaml.ScalarNode {
		name = yamlx.Describe(kv.KeyNode)
	}
	if where != "" {
		where += ": "
	}
	ignored := "Tollgate 1.4.0 silently ignored it"
	if kind == "operator" {
		ignored = "Tollgate 1.4.0 ignored it, so the condition always held"
	}
	c.errorf(kv.KeyNode, "%sunknown %s %s%s; allowed: %s (%s)",
		where, kind, name, suggest(kv.Key, allowed), strings.Join(allowed, ", "), ignored)
}

// version reads the top-level version: its text, with numbers and booleans
// spelt as Python's str() prints them.
func (c *compiler) version(kv *yamlx.Pair) (string, bool) {
	v, ok := c.scalar(kv, "version", "the policy file", "")
	if !ok {
		return "", false
	}
	switch t := v.(type) {
	case string:
		if t != "" {
			return t, true
		}
	case json.Number, bool:
		s := pycompat.Repr(t)
		c.warnf(kv.ValueNode, "version %s is read by YAML as a %s and recorded as %q; quote it to keep the text as written", kv.ValueNode.Value, kindName(t), s)
		return s, true
	}
	c.errorf(kv.KeyNode, "version is empty; give the policy a version or remove the key to use the content hash")
	return "", false
}

// rules compiles the rules list.
func (c *compiler) rules(kv *yamlx.Pair) []rule {
	if yamlx.IsNull(kv.ValueNode) {
		c.errorf(kv.KeyNode, "rules is empty (null); write `rules: []` for a policy that denies everything, or list the rules (Tollgate crashed here)")
		return nil
	}
	items, err := c.doc.Sequence(kv.ValueNode, "rules")
	if err != nil {
		c.add(err)
		return nil
	}
	out := make([]rule, 0, len(items))
	for i, n := range items {
		out = append(out, c.rule(i, n))
	}
	return out
}

func (c *compiler) rule(i int, n *yaml.Node) rule {
	what := fmt.Sprintf("rule at index %d", i)
	r := rule{index: i, line: n.Line, col: n.Column, reason: ReasonDefault, delegation: delegation{maxDepth: -1}}
	pairs, err := c.doc.Mapping(n, what)
	if err != nil {
		c.add(err)
		return r
	}
	hasDecision := false
	for j := range pairs {
		kv := &pairs[j]
		r.keys = append(r.keys, kv.Key)
		switch kv.Key {
		case "id":
			r.id = c.label(kv, what, "give the rule a name or remove the key")
			c.checkDuplicateID(kv, r.id, i)
		case "decision":
			hasDecision = true
			r.decision = c.decision(kv, i)
		case "reason":
			r.reason = c.label(kv, what, "write a reason or remove the key for the default \""+ReasonDefault+"\"")
		case "metadata":
			r.metadata = c.metadata(kv, what)
		case "ask_mode":
			r.askMode = c.askMode(kv, what)
		case "approvals_required":
			r.approvalsRequired = c.approvalsRequired(kv, what)
		case "tool", "action", "resource_type":
			v := c.textValue(kv, kv.Key, what, "the request's "+kv.Key)
			switch kv.Key {
			case "tool":
				r.tool = v
			case "action":
				r.action = v
			default:
				r.resourceType = v
			}
		case "effect":
			r.effect = c.effect(kv, what)
		case "agent":
			c.agent(&r, kv, what)
		case "intent":
			r.intentAttrs = c.intent(kv, what)
		case "when":
			r.when = c.when(kv, what)
		default:
			c.unknownKey(kv, what, "key", ruleKeys)
		}
	}
	if !hasDecision {
		c.errorf(n, "Rule at index %d is missing 'decision' key; add decision: ALLOW, ASK or DENY", i)
	} else if r.decision != tollgate.Ask {
		if r.askMode != "" {
			c.errorf(n, "%s: ask_mode applies only to decision: ASK; remove it", what)
		}
		if r.approvalsRequired != 0 {
			c.errorf(n, "%s: approvals_required applies only to decision: ASK; remove it", what)
		}
	}
	return r
}

// approvalsRequired reads the approvals_required extension key (Tollgate
// 1.4.0 ignores it): how many distinct people must approve the ASK.
func (c *compiler) approvalsRequired(kv *yamlx.Pair, what string) int {
	v, ok := c.scalar(kv, kv.Key, what, "")
	if !ok {
		return 0
	}
	if s, isNum := v.(json.Number); isNum {
		if n, valid := tollgate.ParseApprovalsRequired(string(s)); valid {
			return n
		}
	}
	c.errorf(kv.ValueNode, "%s: approvals_required must be a whole number from 1 to %d, got %s", what, tollgate.MaxApprovalsRequired, typed(v))
	return 0
}

// askMode reads the ask_mode extension key (Tollgate 1.4.0 ignores it).
func (c *compiler) askMode(kv *yamlx.Pair, what string) tollgate.AskMode {
	text, ok := yamlx.Text(kv.ValueNode)
	m, valid := tollgate.ParseAskMode(text)
	if !ok || !valid {
		c.errorf(kv.ValueNode, "%s: ask_mode must be %q or %q, got %s", what, tollgate.AskBlocking, tollgate.AskDeferred, yamlx.Describe(kv.ValueNode))
	}
	return m
}

func (c *compiler) checkDuplicateID(kv *yamlx.Pair, id string, i int) {
	if id == "" {
		return
	}
	if first, dup := c.ids[id]; dup {
		c.warnf(kv.ValueNode, "rule at index %d: id %q is also used by the rule at index %d; decisions and audit lines cannot tell them apart", i, id, first)
		return
	}
	c.ids[id] = i
}

// scalar returns the YAML value of a key that takes a single value. hint,
// when set, is appended to the error for lists and mappings.
func (c *compiler) scalar(kv *yamlx.Pair, name, what, hint string) (any, bool) {
	n := kv.ValueNode
	if n.Kind != yaml.ScalarNode {
		if hint != "" {
			hint = "; " + hint
		}
		c.errorf(n, "%s: %s must be a single value, got %s%s", what, name, yamlx.Describe(n), hint)
		return nil, false
	}
	v, err := c.doc.Value(n)
	if err != nil {
		c.add(err)
		return nil, false
	}
	return v, true
}

// label reads id or reason: text, or a number/boolean as Python's str()
// prints it. Null is an error (Tollgate would put null into the decision).
func (c *compiler) label(kv *yamlx.Pair, what, hint string) string {
	v, ok := c.scalar(kv, kv.Key, what, "")
	if !ok {
		return ""
	}
	if v == nil {
		c.errorf(kv.KeyNode, "%s: %s is empty; %s", what, kv.Key, hint)
		return ""
	}
	return pyStr(v)
}

func (c *compiler) decision(kv *yamlx.Pair, i int) tollgate.DecisionType {
	v, err := c.doc.Value(kv.ValueNode)
	if err != nil {
		c.add(err)
		return ""
	}
	s, _ := v.(string)
	d, ok := tollgate.ParseDecisionType(s)
	if _, isText := v.(string); !ok || !isText {
		c.errorf(kv.ValueNode, "Invalid decision '%s' in rule at index %d; want ALLOW, ASK or DENY (upper-case)", pyStr(v), i)
	}
	return d
}

func (c *compiler) metadata(kv *yamlx.Pair, what string) tollgate.Params {
	if kv.ValueNode.Kind != yaml.MappingNode {
		c.errorf(kv.ValueNode, "%s: metadata must be a mapping (key: value), got %s", what, yamlx.Describe(kv.ValueNode))
		return nil
	}
	v, err := c.doc.Value(kv.ValueNode)
	if err != nil {
		c.add(err)
		return nil
	}
	m := v.(tollgate.Params)
	return m[:len(m):len(m)] // shared: an append by a caller must not write into it
}

// textValue reads a condition compared with a text field of the request,
// agent or intent. A non-text value loads (Tollgate compares it and never
// matches) but is reported as a warning.
func (c *compiler) textValue(kv *yamlx.Pair, name, what, field string) value {
	v, ok := c.scalar(kv, name, what, "write one rule per value")
	if !ok {
		return value{}
	}
	val := newValue(v)
	switch {
	case v == nil:
		c.warnf(kv.ValueNode, "%s: %s is empty (null), which never equals %s, so the rule never matches; give a value or remove the key", what, name, field)
	case !val.isText:
		c.warnf(kv.ValueNode, "%s: %s is %s, which never equals %s (text), so the rule never matches; quote it to compare text",
			what, name, typed(v), field)
	}
	return val
}

func (c *compiler) effect(kv *yamlx.Pair, what string) value {
	v, ok := c.scalar(kv, "effect", what, "write one rule per effect")
	if !ok {
		return value{}
	}
	s, isText := v.(string)
	if e, known := tollgate.ParseEffect(s); !isText || !known {
		c.errorf(kv.ValueNode, "%s: unknown effect %s%s; want read, write, delete or notify (lower-case; Tollgate's rule silently never matched)",
			what, pycompat.Repr(v), suggest(s, []string{"read", "write", "delete", "notify"}))
		return value{}
	} else if e == tollgate.EffectUnknown {
		c.warnf(kv.ValueNode, "%s: effect unknown never matches: calls with an unknown effect are denied before rules are consulted", what)
	}
	return newValue(v)
}

func (c *compiler) agent(r *rule, kv *yamlx.Pair, what string) {
	what += ": agent"
	pairs, err := c.doc.Mapping(kv.ValueNode, what)
	if err != nil {
		c.add(err)
		return
	}
	for j := range pairs {
		kv := &pairs[j]
		switch kv.Key {
		case "agent_id":
			r.agentAttrs = append(r.agentAttrs, attr{kv.Key, fromAgentID, c.textValue(kv, kv.Key, what, "the agent id")})
		case "version":
			r.agentAttrs = append(r.agentAttrs, attr{kv.Key, fromAgentVersion, c.textValue(kv, kv.Key, what, "the agent version")})
		case "owner":
			r.agentAttrs = append(r.agentAttrs, attr{kv.Key, fromAgentOwner, c.textValue(kv, kv.Key, what, "the agent owner")})
		case "environment", "role":
			if v, ok := c.scalar(kv, kv.Key, what, "write one rule per value"); ok {
				r.agentAttrs = append(r.agentAttrs, attr{kv.Key, fromAgentMetadata, newValue(v)})
			}
		case "deny_delegated":
			if v, ok := c.scalar(kv, kv.Key, what, ""); ok {
				b, isBool := v.(bool)
				if !isBool && v != nil {
					c.errorf(kv.ValueNode, "%s: deny_delegated must be true or false, got %s", what, typed(v))
				}
				r.delegation.denyDelegated = b
			}
		case "max_delegation_depth":
			r.delegation.maxDepth = c.maxDepth(kv, what)
		case "allowed_delegators":
			r.delegation.allowed, r.delegation.hasAllowed = c.delegators(kv, what)
			if r.delegation.hasAllowed && len(r.delegation.allowed) == 0 {
				c.warnf(kv.ValueNode, "%s: allowed_delegators is empty, so the rule never matches", what)
			}
		case "blocked_delegators":
			r.delegation.blocked, r.delegation.hasBlocked = c.delegators(kv, what)
		default:
			c.unknownKey(kv, what, "key", agentKeys)
		}
	}
}

// maxDepth reads max_delegation_depth: a whole number ≥ 0, or null (no
// limit, as in Tollgate).
func (c *compiler) maxDepth(kv *yamlx.Pair, what string) int {
	v, ok := c.scalar(kv, kv.Key, what, "")
	if !ok || v == nil {
		return -1
	}
	if n, isNum := v.(json.Number); isNum && !pycompat.IsFloat(n) {
		d, err := strconv.ParseInt(string(n), 10, 64)
		switch {
		case err != nil && d > 0: // beyond int64: no chain is that deep
			return math.MaxInt
		case err == nil && d >= 0:
			return int(min(d, math.MaxInt))
		}
	}
	c.errorf(kv.ValueNode, "%s: max_delegation_depth must be a whole number, 0 or more, got %s", what, typed(v))
	return -1
}

// delegators reads allowed_delegators or blocked_delegators: a list of
// agent ids, or null (not set). A plain string is refused: Python's `in`
// on a string tests for a substring.
func (c *compiler) delegators(kv *yamlx.Pair, what string) (ids []string, set bool) {
	n := kv.ValueNode
	if yamlx.IsNull(n) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, "%s: %s must be a list of agent ids, got %s; write [%s]", what, kv.Key, yamlx.Describe(n), n.Value)
		return nil, false
	}
	items, _ := c.doc.Sequence(n, kv.Key)
	ids = make([]string, 0, len(items))
	for _, it := range items {
		v, err := c.doc.Value(it)
		if err != nil {
			c.add(err)
			continue
		}
		s, isText := v.(string)
		if !isText {
			c.errorf(it, "%s: %s entries must be agent ids (text), got %s; quote it", what, kv.Key, typed(v))
			continue
		}
		ids = append(ids, s)
	}
	return ids, true
}

func (c *compiler) intent(kv *yamlx.Pair, what string) []attr {
	what += ": intent"
	pairs, err := c.doc.Mapping(kv.ValueNode, what)
	if err != nil {
		c.add(err)
		return nil
	}
	var out []attr
	for j := range pairs {
		kv := &pairs[j]
		switch kv.Key {
		case "action":
			out = append(out, attr{kv.Key, fromIntentAction, c.textValue(kv, kv.Key, what, "the intent action")})
		case "reason":
			out = append(out, attr{kv.Key, fromIntentReason, c.textValue(kv, kv.Key, what, "the intent reason")})
		case "session_id":
			if v, ok := c.scalar(kv, kv.Key, what, ""); ok {
				out = append(out, attr{kv.Key, fromIntentMetadata, newValue(v)})
			}
		default:
			c.unknownKey(kv, what, "key", intentKeys)
		}
	}
	return out
}

func (c *compiler) when(kv *yamlx.Pair, what string) []condition {
	what += ": when"
	pairs, err := c.doc.Mapping(kv.ValueNode, what)
	if err != nil {
		c.add(err)
		return nil
	}
	out := make([]condition, 0, len(pairs))
	for j := range pairs {
		kv := &pairs[j]
		if !c.textKey(kv, what) {
			continue
		}
		cond := condition{key: kv.Key}
		if kv.ValueNode.Kind == yaml.MappingNode {
			cond.ops = c.comparisons(kv, what)
		} else {
			v, err := c.doc.Value(kv.ValueNode)
			if err != nil {
				c.add(err)
				continue
			}
			cond.equal, cond.want = true, v
		}
		out = append(out, cond)
	}
	return out
}

// textKey checks that a when: key is text. YAML 1.1 reads `yes:` as a
// boolean and `1:` as a number; metadata keys are always text, so Tollgate
// never found such a key.
func (c *compiler) textKey(kv *yamlx.Pair, what string) bool {
	k, err := c.doc.Value(kv.KeyNode)
	if err != nil {
		c.add(err)
		return false
	}
	if _, ok := k.(string); !ok {
		c.errorf(kv.KeyNode, "%s: key %s is read by YAML as %s; quote it (\"%s\") to name a metadata key",
			what, kv.KeyNode.Value, article(kindName(k)), kv.KeyNode.Value)
		return false
	}
	return true
}

func (c *compiler) comparisons(kv *yamlx.Pair, what string) []comparison {
	pairs, _ := c.doc.Mapping(kv.ValueNode, what)
	out := make([]comparison, 0, len(pairs))
	for j := range pairs {
		op, known := operators[pairs[j].Key]
		if !known {
			c.unknownKey(&pairs[j], what+"."+kv.Key, "operator", opKeys)
			continue
		}
		target, err := c.doc.Value(pairs[j].ValueNode)
		if err != nil {
			c.add(err)
			continue
		}
		out = append(out, comparison{op, target})
	}
	return out
}

// pyStr is Python's str() of a YAML value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pycompat.Repr(v)
}

// kindName names a value's type in messages.
func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "list"
	}
	return "mapping"
}

func article(kind string) string {
	if kind == "null" {
		return kind
	}
	return "a " + kind
}

// typed names a value with its YAML type: "the number 1.0", "null".
func typed(v any) string {
	if v == nil {
		return "null"
	}
	return "the " + kindName(v) + " " + pycompat.Repr(v)
}

// suggest returns ` (did you mean "x"?)` for the allowed key nearest to key,
// or "" when none is close.
func suggest(key string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(key), a); d < bestDist && 2*d < len(a) {
			best, bestDist = a, d
		}
	}
	if best == "" || best == key {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
