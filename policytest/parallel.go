package policytest

import (
	"bytes"
	"runtime"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// Large scenario files are parsed in pieces, in parallel. YAML parsing is
// what a 100,000-scenario run spends its time on, and a whole-file node tree
// costs about twenty times the file's size in memory; pieces of chunkSize
// bytes bound that to a few pieces in flight. Each piece goes to
// parseFastYAML first and to yamlx (yaml.v3) when that declines.
//
// The fast path only takes files of the common shape — a block list under a
// top-level `scenarios:` key, with nothing but comments after it — and it
// proves its split: each piece must parse on its own, hold exactly the items
// the split expected, starting on the expected lines, and use no aliases
// (so that yamlx's whole-file alias budget still holds). A line that only
// looks like an item start (inside a quoted or flow scalar) leaves the piece
// before it unterminated, which fails to parse. Whenever a check fails,
// ParseScenarios parses the whole file instead, so results and errors are
// the same either way (TestParallelMatchesWhole, FuzzParseScenarios).
const (
	parallelMin = 256 << 10 // smaller files are parsed whole
	chunkSize   = 256 << 10
)

// piece is a run of whole scenario items.
type piece struct {
	start, end int // byte offsets in the file
	line       int // file line of start (1-based)
	items      []int
	first      int // index of the first item in the whole list
}

// parseParallel decodes data along the fast path. ok is false when the file
// does not qualify or a check fails; the caller then parses it whole.
func parseParallel(name string, data []byte, strict bool) (s []Scenario, ok bool, err error) {
	if len(data) < parallelMin || len(data) > MaxFileSize {
		return nil, false, nil
	}
	return parseChunked(name, data, strict, chunkSize)
}

// parseChunked is parseParallel with pieces of about chunk bytes.
func parseChunked(name string, data []byte, strict bool, chunk int) (s []Scenario, ok bool, err error) {
	header, pieces, ok := split(data, chunk)
	if !ok {
		return nil, false, nil
	}
	// A header error is only reported once every piece has parsed: the
	// whole-file parse reports syntax errors anywhere before key errors.
	headerOK, headerErr := checkHeader(name, header, strict)
	if !headerOK {
		return nil, false, nil
	}

	// Each piece decodes straight into its place in out.
	out := make([]Scenario, pieces[len(pieces)-1].first+len(pieces[len(pieces)-1].items))
	type result struct {
		ok  bool
		err error
	}
	results := make([]result, len(pieces))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pieces)) {
		wg.Go(func() {
			var arena nodeArena
			for i := range next {
				p := &pieces[i]
				ok, err := parsePiece(name, data, p, strict, &arena, out[p.first:p.first+len(p.items)])
				results[i] = result{ok, err}
				arena.Reset()
			}
		})
	}
	for i := range pieces {
		next <- i
	}
	close(next)
	wg.Wait()

	firstErr := headerErr
	for _, r := range results {
		if !r.ok {
			return nil, false, nil // a syntax error or a wrong split: parse whole
		}
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
	}
	if firstErr != nil {
		return nil, true, firstErr
	}
	return out, true, nil
}

// split finds the `scenarios:` line and the item starts after it, and groups
// the items into pieces of about chunk bytes. header is everything
// before the `scenarios:` line.
func split(data []byte, chunk int) (header []byte, pieces []piece, ok bool) {
	var (
		indent    = -1 // column of the list's dashes
		inList    bool
		cur       *piece
		lineNo    int
		itemCount int
	)
	for off := 0; off < len(data); {
		lineNo++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		line := data[off:end]
		start := off
		off = end + 1

		if !inList {
			if len(line) > 0 && line[0] == '%' {
				return nil, nil, false // directives would change how pieces parse
			}
			if isScenariosKey(line) {
				header, inList = data[:start], true
			}
			continue
		}
		col, rest := leadingSpaces(line)
		if isBlankOrComment(rest) {
			continue
		}
		if indent < 0 {
			indent = col
		}
		if col > indent {
			continue // inside the current item
		}
		if col < indent || !isItemStart(rest) {
			return nil, nil, false // something follows the list: parse whole
		}
		if cur == nil || start-cur.start >= chunk {
			pieces = append(pieces, piece{start: start, line: lineNo, first: itemCount})
			cur = &pieces[len(pieces)-1]
		}
		cur.items = append(cur.items, lineNo)
		itemCount++
	}
	if len(pieces) < 2 {
		return nil, nil, false
	}
	for i := range pieces {
		if i+1 < len(pieces) {
			pieces[i].end = pieces[i+1].start
		} else {
			pieces[i].end = len(data)
		}
	}
	return header, pieces, true
}

// isScenariosKey reports whether line is `scenarios:` at column 0 with
// nothing after it but a comment.
func isScenariosKey(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("scenarios:"))
	if !ok {
		return false
	}
	t := bytes.TrimLeft(rest, " \t\r")
	return len(t) == 0 || (t[0] == '#' && len(t) < len(rest))
}

func leadingSpaces(line []byte) (int, []byte) {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	return n, line[n:]
}

// isBlankOrComment reports whether rest (a line after its indentation) holds
// nothing but whitespace or a comment.
func isBlankOrComment(rest []byte) bool {
	t := bytes.TrimLeft(rest, " \t\r")
	return len(t) == 0 || t[0] == '#'
}

// isItemStart reports whether rest (a line after its indentation) starts a
// block sequence item: a dash followed by a space, a tab or the line end.
func isItemStart(rest []byte) bool {
	return len(rest) > 0 && rest[0] == '-' &&
		(len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t' || rest[1] == '\r')
}

// checkHeader parses what precedes the list, with an empty list in its
// place, to check the top-level keys as the whole-file path would. ok is
// false when the header is not a plain mapping ending where the list starts.
func checkHeader(name string, header []byte, strict bool) (ok bool, err error) {
	text := append(bytes.Clone(header), "scenarios: []\n"...)
	doc, err := yamlx.ParseLimited(name, text, MaxFileSize)
	if err != nil {
		return false, nil
	}
	d := &decoder{doc: doc, strict: strict}
	list, err := d.topLevel()
	if err != nil {
		return true, err
	}
	wantLine := bytes.Count(header, []byte("\n")) + 1
	return list.Kind == yaml.SequenceNode && list.Line == wantLine && len(list.Content) == 0, nil
}

// parsePiece parses one piece and decodes it into dst. ok is false when the
// piece does not parse on its own or does not hold the items split found.
func parsePiece(name string, data []byte, p *piece, strict bool, arena *nodeArena, dst []Scenario) (ok bool, err error) {
	// The piece is parsed under its own `scenarios:` key, so nesting depth
	// counts as in the whole file.
	text := make([]byte, 0, len("scenarios:\n")+p.end-p.start)
	text = append(append(text, "scenarios:\n"...), data[p.start:p.end]...)
	// The fast parser numbers lines as in the file and builds no aliases;
	// yamlx's tree is renumbered and checked for aliases.
	doc := &yamlx.Document{File: name}
	root, fast := parseFastYAML(text, p.line-1, arena)
	if fast {
		doc.Root = root
	} else if doc, err = yamlx.ParseLimited(name, text, MaxFileSize); err != nil {
		return false, nil
	}
	if doc.Root == nil || doc.Root.Kind != yaml.MappingNode || len(doc.Root.Content) != 2 {
		return false, nil
	}
	list := doc.Root.Content[1]
	if list.Kind != yaml.SequenceNode || len(list.Content) != len(p.items) {
		return false, nil
	}
	if !fast && !shiftLines(list, p.line-2) {
		return false, nil
	}
	for i, item := range list.Content {
		if item.Line != p.items[i] {
			return false, nil
		}
	}
	d := &decoder{doc: doc, strict: strict}
	return true, d.scenarios(dst, list.Content, p.first)
}

// shiftLines moves every node's line by delta (piece lines to file lines).
// It reports false when the tree holds an alias.
func shiftLines(n *yaml.Node, delta int) bool {
	if n.Kind == yaml.AliasNode {
		return false
	}
	n.Line += delta
	for _, c := range n.Content {
		if !shiftLines(c, delta) {
			return false
		}
	}
	return true
}
