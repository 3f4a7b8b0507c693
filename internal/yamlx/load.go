package yamlx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest file Load reads. Policies and manifests are
// hand-written; anything larger is a mistake or an attack.
const MaxFileSize = 8 << 20

// MaxDepth bounds nesting of mappings and sequences.
const MaxDepth = 64

// baseNodes bounds the number of nodes a document expands to through
// aliases (a "billion laughs" document expands exponentially): a document
// may expand to baseNodes plus one node per byte of input.
const baseNodes = 1_000_000

// Error is a configuration error at a position in a file.
type Error struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based; 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Document is a parsed YAML file.
type Document struct {
	File string
	Root *yaml.Node // the top-level node (nil for an empty document)
}

// Errorf returns an *Error positioned at n.
func (d *Document) Errorf(n *yaml.Node, format string, args ...any) error {
	e := &Error{File: d.File, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// ReadFile reads and parses a YAML file, refusing directories, files over
// MaxFileSize and binary data.
func ReadFile(path string) (*Document, []byte, error) {
	data, err := ReadLimited(path, MaxFileSize)
	if err != nil {
		return nil, nil, err
	}
	doc, err := Parse(path, data)
	return doc, data, err
}

// ReadLimited reads a regular file of at most limit bytes.
func ReadLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPathErr(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPathErr(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, want a file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: file is %d bytes, larger than the %d-byte limit", path, st.Size(), limit)
	}
	buf, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPathErr(err))
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%s: file is larger than the %d-byte limit", path, limit)
	}
	return buf, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses one YAML document from data. name is used in error messages.
func Parse(name string, data []byte) (*Document, error) {
	return ParseLimited(name, data, MaxFileSize)
}

// ParseLimited is Parse with another size limit, for files that are
// legitimately large (generated scenario files).
func ParseLimited(name string, data []byte, limit int) (*Document, error) {
	if len(data) > limit {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file is %d bytes, larger than the %d-byte limit", len(data), limit)}
	}
	if !utf8.Valid(data) {
		return nil, &Error{File: name, Msg: "not UTF-8 text (binary file?)"}
	}
	for i, c := range data {
		if c == 0 {
			return nil, &Error{File: name, Line: 1 + countLines(data[:i]), Msg: "contains a NUL byte (binary file?)"}
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, parseErr(name, err)
	}
	doc := &Document{File: name}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		doc.Root = root.Content[0]
	}
	if doc.Root != nil {
		budget := baseNodes + len(data)
		if err := doc.check(doc.Root, 0, &budget); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func parseErr(name string, err error) error {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "YAML syntax error: " + m[2]}
	}
	if len(msg) > 6 && msg[:6] == "yaml: " {
		msg = msg[6:]
	}
	return &Error{File: name, Msg: "YAML syntax error: " + msg}
}

// check enforces depth, expansion and duplicate-key limits over the tree as
// aliases would expand it.
func (d *Document) check(n *yaml.Node, depth int, budget *int) error {
	*budget--
	if *budget < 0 {
		return d.Errorf(n, "document expands to too many nodes (alias bomb?); write the values out instead of repeating aliases")
	}
	if depth > MaxDepth {
		return d.Errorf(n, "nesting deeper than %d levels", MaxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return d.check(n.Alias, depth+1, budget)
	case yaml.MappingNode:
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if k.Tag == "!!merge" {
					return d.Errorf(k, "merge keys (<<) are not supported; write the keys out")
				}
				if seen[k.Value] {
					return d.Errorf(k, "duplicate key %q (PyYAML silently keeps the last one; remove one of them)", k.Value)
				}
				seen[k.Value] = true
			}
			if err := d.check(k, depth+1, budget); err != nil {
				return err
			}
			if err := d.check(n.Content[i+1], depth+1, budget); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := d.check(c, depth+1, budget); err != nil {
				return err
			}
		}
	}
	return nil
}
