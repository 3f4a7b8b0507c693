package policytest

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// parseFastYAML parses the plain YAML that generated scenario files are
// made of, several times faster than yaml.v3 (BenchmarkPieceYAML), into the same node tree
// yaml.v3 builds (kinds, styles, tags, values, lines and columns).
//
// It takes only a strict subset and reports ok=false for anything else,
// so the caller can hand the text to yaml.v3, which stays the reference:
//
//   - block mappings and sequences, a sequence item holding a mapping
//     ("- key: value"), a sequence as a mapping value at the key's
//     indentation;
//   - flow mappings and sequences that close on the line they open;
//   - single-line plain, single-quoted and double-quoted scalars (escapes
//     \" \\ \n \t \r \uXXXX), comments and blank lines.
//
// Refused, among others: anchors, aliases, tags, block scalars, multi-line
// scalars and flow collections, empty values, complex and merge keys,
// duplicate keys, document markers and directives, tabs, CR, control
// characters, and nesting deeper than fastMaxDepth. TestFastYAMLMatchesYAMLv3
// and FuzzFastYAML compare the trees it builds with yaml.v3's.
//
// Node lines count from firstLine (1 for a whole document).
//
// Nodes come from arena (nil: a fresh one): they are valid until the arena
// is reset.
func parseFastYAML(data []byte, firstLine int, arena *nodeArena) (*yaml.Node, bool) {
	if arena == nil {
		arena = &nodeArena{}
	}
	p, ok := newFastParser(data, firstLine, arena)
	if !ok {
		return nil, false
	}
	p.skipBlank()
	if p.eof() || p.lines[p.i].indent != 0 {
		return nil, false
	}
	root, ok := p.blockMapping(0, 0, 0)
	if !ok {
		return nil, false
	}
	p.skipBlank()
	return root, p.eof()
}

// fastMaxDepth keeps the fast parser well inside yamlx.MaxDepth.
const fastMaxDepth = 32

// maxKeyLen is below YAML's 1024-character limit on implicit keys.
const maxKeyLen = 1000

type fastLine struct {
	text   []byte // without its newline
	start  int    // offset of text in the document
	indent int    // leading spaces
	blank  bool   // nothing but spaces or a comment
}

// fastParser allocates little: scalar values are substrings of one copy of
// the document, and nodes come from an arena.
type fastParser struct {
	src   string // the document
	first int    // line number of the first line
	lines []fastLine
	i     int  // current line
	ascii bool // no multi-byte characters: columns are byte offsets
	arena *nodeArena
	// stack holds the children of the collections being parsed; a
	// collection copies its own into an exact-size Content when it ends.
	stack []*yaml.Node
}

// open starts a collection's children on the stack.
func (p *fastParser) open() int { return len(p.stack) }

// close ends the collection whose children start at base.
func (p *fastParser) close(n *yaml.Node, base int) {
	n.Content = p.arena.children(p.stack[base:])
	p.stack = p.stack[:base]
}

// hasKey reports whether a mapping's children so far hold key.
func (p *fastParser) hasKey(base int, key string) bool {
	for i := base; i < len(p.stack); i += 2 {
		if p.stack[i].Value == key {
			return true
		}
	}
	return false
}

func newFastParser(data []byte, firstLine int, arena *nodeArena) (*fastParser, bool) {
	p := &fastParser{ascii: true, src: string(data), first: firstLine, arena: arena}
	for _, b := range data {
		switch {
		case b == '\n':
		case b < 0x20 || b == 0x7f:
			return nil, false // tabs, CR, control characters
		case b >= 0x80:
			p.ascii = false
		}
	}
	if !p.ascii && !printableUTF8(data) {
		return nil, false
	}
	p.lines = make([]fastLine, 0, bytes.Count(data, []byte("\n"))+1)
	for start := 0; start < len(data); {
		text := data[start:]
		next := len(data)
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			text, next = text[:i], start+i+1
		}
		if bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) || bytes.HasPrefix(text, []byte("%")) {
			return nil, false
		}
		indent := 0
		for indent < len(text) && text[indent] == ' ' {
			indent++
		}
		p.lines = append(p.lines, fastLine{text: text, start: start, indent: indent, blank: indent == len(text) || text[indent] == '#'})
		start = next
	}
	return p, true
}

// str returns text[from:to] of the current line without copying it.
func (p *fastParser) str(from, to int) string {
	start := p.lines[p.i].start
	return p.src[start+from : start+to]
}

// printableUTF8 reports whether data is UTF-8 that YAML allows unescaped
// and holds none of the line breaks YAML 1.1 adds to \n (NEL, LS, PS).
func printableUTF8(data []byte) bool {
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false
		}
		data = data[size:]
	}
	return true
}

func (p *fastParser) eof() bool { return p.i >= len(p.lines) }

func (p *fastParser) skipBlank() {
	for p.i < len(p.lines) && p.lines[p.i].blank {
		p.i++
	}
}

// node starts a node at byte offset off of the current line.
func (p *fastParser) node(kind yaml.Kind, off int) *yaml.Node {
	col := off
	if !p.ascii {
		col = utf8.RuneCount(p.lines[p.i].text[:off])
	}
	n := p.arena.alloc()
	n.Kind, n.Line, n.Column = kind, p.first+p.i, col+1
	return n
}

// blockMapping parses a block mapping whose keys sit at column indent; its
// first key starts at offset off of the current line (off > indent never
// happens: for "- key: v" the caller passes the key's offset as both).
func (p *fastParser) blockMapping(indent, off, depth int) (*yaml.Node, bool) {
	if depth > fastMaxDepth {
		return nil, false
	}
	m := p.node(yaml.MappingNode, off)
	m.Tag = "!!map"
	base := p.open()
	for first := true; ; first = false {
		if !first {
			p.skipBlank()
			if p.eof() || p.lines[p.i].indent < indent {
				p.close(m, base)
				return m, true
			}
			if p.lines[p.i].indent > indent {
				return nil, false // a continuation line or bad indentation
			}
		}
		key, after, ok := p.key(off)
		off = indent
		if !ok || p.hasKey(base, key.Value) {
			return nil, false
		}
		p.stack = append(p.stack, key)
		value, ok := p.mappingValue(indent, after, depth+1)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, value)
	}
}

// key parses "key:" at offset off of the current line and returns the
// offset just after the colon.
func (p *fastParser) key(off int) (*yaml.Node, int, bool) {
	text := p.lines[p.i].text
	if c := text[off]; c == '"' || c == '\'' {
		key, end, ok := p.quoted(off)
		if !ok || end-off > maxKeyLen || end >= len(text) || text[end] != ':' || end+1 < len(text) && text[end+1] != ' ' {
			return nil, 0, false
		}
		return key, end + 1, true
	}
	colon := keyColon(text, off)
	if colon < 0 || colon-off > maxKeyLen || !plainStart(text, off, false) {
		return nil, 0, false
	}
	s := p.str(off, colon)
	if strings.HasSuffix(s, " ") || strings.Contains(s, " #") || s == "<<" {
		return nil, 0, false
	}
	return p.plain(s, off), colon + 1, true
}

// keyColon returns the offset of the colon ending a plain key that starts
// at off (a colon followed by a space or the line end, before any comment),
// or -1.
func keyColon(text []byte, off int) int {
	for i := off; i < len(text); i++ {
		switch text[i] {
		case ':':
			if i+1 == len(text) || text[i+1] == ' ' {
				return i
			}
		case '#':
			if text[i-1] == ' ' {
				return -1
			}
		}
	}
	return -1
}

// isKeyStart reports whether the text at off begins a "key: value" entry.
func isKeyStart(text []byte, off int) bool {
	switch text[off] {
	case '"', '\'':
		end := closingQuote(text, off)
		return end > 0 && end < len(text) && text[end] == ':'
	case '{', '[':
		return false
	}
	return keyColon(text, off) >= 0
}

// closingQuote returns the offset after the quoted scalar at off, or -1.
func closingQuote(text []byte, off int) int {
	q := text[off]
	for i := off + 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q && q == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i++
		case text[i] == q:
			return i + 1
		}
	}
	return -1
}

// mappingValue parses the value of a block mapping entry whose colon ended
// just before offset after.
func (p *fastParser) mappingValue(indent, after, depth int) (*yaml.Node, bool) {
	text := p.lines[p.i].text
	v := after
	for v < len(text) && text[v] == ' ' {
		v++
	}
	if v < len(text) && text[v] != '#' {
		return p.inlineValue(v, depth)
	}
	// The value is a block on the following lines.
	p.i++
	p.skipBlank()
	if p.eof() {
		return nil, false // an empty value
	}
	l := p.lines[p.i]
	switch {
	case l.indent > indent && isSeqItem(l):
		return p.blockSequence(l.indent, depth)
	case l.indent > indent:
		return p.blockMapping(l.indent, l.indent, depth)
	case l.indent == indent && isSeqItem(l):
		return p.blockSequence(indent, depth)
	}
	return nil, false // an empty value
}

func isSeqItem(l fastLine) bool {
	t := l.text[l.indent:]
	return len(t) > 0 && t[0] == '-' && (len(t) == 1 || t[1] == ' ')
}

// blockSequence parses a block sequence whose dashes sit at column indent.
func (p *fastParser) blockSequence(indent, depth int) (*yaml.Node, bool) {
	if depth > fastMaxDepth {
		return nil, false
	}
	s := p.node(yaml.SequenceNode, indent)
	s.Tag = "!!seq"
	base := p.open()
	for {
		p.skipBlank()
		if p.eof() || p.lines[p.i].indent < indent || !isSeqItem(p.lines[p.i]) && p.lines[p.i].indent == indent {
			// The end, or the parent mapping's next key.
			p.close(s, base)
			return s, true
		}
		l := p.lines[p.i]
		if l.indent > indent {
			return nil, false
		}
		c := indent + 1
		for c < len(l.text) && l.text[c] == ' ' {
			c++
		}
		if c == len(l.text) || l.text[c] == '#' || l.text[c] == '-' && (c+1 == len(l.text) || l.text[c+1] == ' ') {
			return nil, false // an item on the next lines, or a nested sequence
		}
		var item *yaml.Node
		var ok bool
		if isKeyStart(l.text, c) {
			item, ok = p.blockMapping(c, c, depth+1)
		} else {
			item, ok = p.inlineValue(c, depth+1)
		}
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, item)
	}
}

// inlineValue parses a scalar or flow collection that fills the rest of the
// current line (a comment may follow), and moves to the next line.
func (p *fastParser) inlineValue(off, depth int) (*yaml.Node, bool) {
	text := p.lines[p.i].text
	var n *yaml.Node
	var end int
	var ok bool
	switch text[off] {
	case '{', '[':
		n, end, ok = p.flow(off, depth)
	case '"', '\'':
		n, end, ok = p.quoted(off)
	default:
		if !plainStart(text, off, false) {
			return nil, false
		}
		end = len(text)
		if i := bytes.Index(text[off:], []byte(" #")); i >= 0 {
			end = off + i
		}
		s := strings.TrimRight(p.str(off, end), " ")
		if strings.Contains(s, ": ") || strings.HasSuffix(s, ":") {
			return nil, false // "mapping values are not allowed in this context"
		}
		n, ok = p.plain(s, off), true
	}
	if !ok || !restIsComment(text, end) {
		return nil, false
	}
	p.i++
	return n, true
}

// restIsComment reports whether text from end holds only spaces and maybe
// a comment that a space separates from what came before.
func restIsComment(text []byte, end int) bool {
	i := end
	for i < len(text) && text[i] == ' ' {
		i++
	}
	return i == len(text) || text[i] == '#' && i > end
}

// plainStart reports whether a plain scalar may start at off: not with an
// indicator, except '-' before a non-space ("-5").
func plainStart(text []byte, off int, flow bool) bool {
	switch text[off] {
	case '-':
		return off+1 < len(text) && text[off+1] != ' ' && (!flow || !isFlowIndicator(text[off+1]))
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	}
	return true
}

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// plain makes a plain scalar node, tagged as yaml.v3 resolves it.
func (p *fastParser) plain(s string, off int) *yaml.Node {
	n := p.node(yaml.ScalarNode, off)
	n.Value = s
	n.Tag = p.arena.tag(n)
	return n
}

// quoted parses a single- or double-quoted scalar closing on this line and
// returns the offset after its closing quote.
func (p *fastParser) quoted(off int) (*yaml.Node, int, bool) {
	text := p.lines[p.i].text
	end := closingQuote(text, off)
	if end < 0 {
		return nil, 0, false
	}
	n := p.node(yaml.ScalarNode, off)
	n.Tag = "!!str"
	raw := p.str(off+1, end-1)
	var ok bool
	if text[off] == '\'' {
		n.Style = yaml.SingleQuotedStyle
		n.Value, ok = strings.ReplaceAll(raw, "''", "'"), true
	} else {
		n.Style = yaml.DoubleQuotedStyle
		n.Value, ok = unescape(raw)
	}
	return n, end, ok
}

// unescape decodes the escapes of a double-quoted scalar that this parser
// accepts; anything else makes it refuse the document.
func unescape(raw string) (string, bool) {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\':
			b.WriteByte(raw[i])
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'u':
			if i+4 >= len(raw) {
				return "", false
			}
			r, err := strconv.ParseUint(raw[i+1:i+5], 16, 32)
			if err != nil || r >= 0xd800 && r <= 0xdfff {
				return "", false
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			return "", false
		}
	}
	return b.String(), true
}

// flow parses a flow mapping or sequence that closes on this line and
// returns the offset after its closing bracket.
func (p *fastParser) flow(off, depth int) (*yaml.Node, int, bool) {
	if depth > fastMaxDepth {
		return nil, 0, false
	}
	text := p.lines[p.i].text
	isMap := text[off] == '{'
	n := p.node(yaml.SequenceNode, off)
	n.Tag, n.Style = "!!seq", yaml.FlowStyle
	closing := byte(']')
	if isMap {
		n.Kind, n.Tag, closing = yaml.MappingNode, "!!map", '}'
	}
	i := skipSpaces(text, off+1)
	if i < len(text) && text[i] == closing {
		return n, i + 1, true
	}
	base := p.open()
	for {
		if isMap {
			key, after, ok := p.flowKey(i)
			if !ok || p.hasKey(base, key.Value) {
				return nil, 0, false
			}
			p.stack = append(p.stack, key)
			i = skipSpaces(text, after)
		}
		value, after, ok := p.flowValue(i, depth+1)
		if !ok {
			return nil, 0, false
		}
		p.stack = append(p.stack, value)
		i = skipSpaces(text, after)
		switch {
		case i < len(text) && text[i] == closing:
			p.close(n, base)
			return n, i + 1, true
		case i < len(text) && text[i] == ',':
			i = skipSpaces(text, i+1)
			if i >= len(text) || text[i] == closing {
				return nil, 0, false // a trailing comma, or the line ends
			}
		default:
			return nil, 0, false
		}
	}
}

func skipSpaces(text []byte, i int) int {
	for i < len(text) && text[i] == ' ' {
		i++
	}
	return i
}

// flowKey parses "key: " inside a flow mapping.
func (p *fastParser) flowKey(i int) (*yaml.Node, int, bool) {
	text := p.lines[p.i].text
	if i >= len(text) {
		return nil, 0, false
	}
	var key *yaml.Node
	var end int
	if c := text[i]; c == '"' || c == '\'' {
		var ok bool
		if key, end, ok = p.quoted(i); !ok {
			return nil, 0, false
		}
	} else {
		var ok bool
		if key, end, ok = p.flowPlain(i); !ok || key.Value == "<<" {
			return nil, 0, false
		}
	}
	if end-i > maxKeyLen || end+1 >= len(text) || text[end] != ':' || text[end+1] != ' ' {
		return nil, 0, false
	}
	return key, end + 1, true
}

// flowValue parses a scalar or nested collection inside a flow collection.
func (p *fastParser) flowValue(i, depth int) (*yaml.Node, int, bool) {
	text := p.lines[p.i].text
	if i >= len(text) {
		return nil, 0, false
	}
	switch text[i] {
	case '{', '[':
		return p.flow(i, depth)
	case '"', '\'':
		return p.quoted(i)
	}
	return p.flowPlain(i)
}

// flowPlain parses a plain scalar inside a flow collection: it ends at a
// comma, a closing bracket or the colon of "key: ". A colon anywhere else,
// an opening bracket or a comment makes the parser refuse the document.
func (p *fastParser) flowPlain(i int) (*yaml.Node, int, bool) {
	text := p.lines[p.i].text
	if !plainStart(text, i, true) {
		return nil, 0, false
	}
	end := i
scan:
	for ; end < len(text); end++ {
		switch text[end] {
		case ',', ']', '}':
			break scan
		case ':':
			if end+1 < len(text) && text[end+1] == ' ' {
				break scan
			}
			return nil, 0, false
		case '[', '{':
			return nil, 0, false
		case '#':
			if text[end-1] == ' ' {
				return nil, 0, false
			}
		}
	}
	s := strings.TrimRight(p.str(i, end), " ")
	if s == "" {
		return nil, 0, false
	}
	return p.plain(s, i), i + len(s), true
}
