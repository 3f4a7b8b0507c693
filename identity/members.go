package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-go/tollgate"
)

// checkMembers reads one JSON value — a token's header or claims, exactly
// as signed — and refuses what lets two readers of the same bytes
// disagree about what the token says:
//
//   - bytes that are not UTF-8 (encoding/json reads them as U+FFFD, other
//     readers refuse them or keep them);
//   - a member name repeated in any object, at any depth (encoding/json,
//     and so golang-jwt, keeps the last value; other readers keep the
//     first, or refuse);
//   - at the top level, two names equal under case folding ("sub" and
//     "SUB"), or a name equal to one of known only under case folding
//     ("AuD" alone): encoding/json matches struct fields
//     case-insensitively, so a Go service decoding the token into a
//     struct would read "SUB" or "AuD" as the claim this package reads
//     (or ignores) under its exact name.
//
// Names are compared unescaped: "sub" and "\u0073ub" are one name. what
// names the value in errors ("header", "claims"); known holds the
// top-level names read, by foldedNames.
func checkMembers(what string, data []byte, known map[string]string) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%s: not valid UTF-8", what)
	}
	w := memberWalker{dec: json.NewDecoder(bytes.NewReader(data)), known: known}
	// Numbers are not read, only skipped: UseNumber keeps 1e400 from
	// failing here when the claim decoder would take it.
	w.dec.UseNumber()
	if err := w.value(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: data after the JSON value", what)
	}
	return nil
}

// memberWalker walks a JSON value token by token, one set of names per
// object.
type memberWalker struct {
	dec   *json.Decoder
	known map[string]string // top-level names read, by their case fold
	path  []any             // member names (string) and array indexes (int) down to the current value
}

func (w *memberWalker) value() error {
	tok, err := w.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a string, number, bool or null
	}
	if len(w.path) >= tollgate.MaxDepth {
		return fmt.Errorf("nesting deeper than %d levels at %s", tollgate.MaxDepth, w.where())
	}
	// Where a value starts, Token yields only an opening delimiter.
	if d == '[' {
		return w.array()
	}
	return w.object()
}

func (w *memberWalker) object() error {
	top := len(w.path) == 0
	// At the top level names are keyed by their case fold, which also
	// catches exact repeats; below it, by the name itself.
	seen := map[string]string{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		name := tok.(string) // in member-name position Token yields only strings
		key := name
		if top {
			key = foldName(name)
		}
		if first, dup := seen[key]; dup {
			if first == name {
				return fmt.Errorf("member %s appears twice", w.where(name))
			}
			return fmt.Errorf("members %q and %q differ only in case; a case-insensitive reader takes them for one", first, name)
		}
		if claim, ok := w.known[key]; top && ok && claim != name {
			return fmt.Errorf("member %q is %q in another case; a case-insensitive reader takes it for %q", name, claim, claim)
		}
		seen[key] = name
		w.path = append(w.path, name)
		if err := w.value(); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
	_, err := w.dec.Token() // '}'
	return err
}

func (w *memberWalker) array() error {
	for i := 0; w.dec.More(); i++ {
		w.path = append(w.path, i)
		if err := w.value(); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
	_, err := w.dec.Token() // ']'
	return err
}

// where renders the current path, and then more, as meta.tags[1].role
// (quoted), or "the top level" for an empty path.
func (w *memberWalker) where(more ...any) string {
	var b strings.Builder
	for _, p := range append(w.path[:len(w.path):len(w.path)], more...) {
		switch p := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	if b.Len() == 0 {
		return "the top level"
	}
	return strconv.Quote(b.String())
}

// foldedNames returns names by their case fold, for checkMembers.
func foldedNames(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[foldName(n)] = n
	}
	return m
}

// foldName maps every name encoding/json would match to the same struct
// field to one key: each rune becomes the smallest rune of its Unicode
// case-folding orbit, as encoding/json folds ("sub", "SUB" and "ſub" all
// become "SUB").
func foldName(name string) string {
	return strings.Map(func(r rune) rune {
		for {
			next := unicode.SimpleFold(r)
			if next <= r { // the orbit wrapped around to its smallest rune
				return next
			}
			r = next
		}
	}, name)
}
