package pycompat

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tollgate-go/tollgate"
)

// JSONStyle selects between the two json.dumps flavours Tollgate uses.
type JSONStyle struct {
	// SortKeys sorts object keys by code point at every level (request hash).
	SortKeys bool
	// ASCII escapes every non-ASCII character as \uXXXX, astral characters
	// as surrogate pairs (request hash); otherwise UTF-8 is kept (audit log).
	ASCII bool
}

// Canonical is json.dumps(v, sort_keys=True), the form hashed into
// Tollgate's request_hash.
var Canonical = JSONStyle{SortKeys: true, ASCII: true}

// Log is json.dumps(v, ensure_ascii=False), the form of Tollgate's JSONL audit
// lines.
var Log = JSONStyle{}

// AppendParams is AppendJSON(dst, p) without boxing p in an interface,
// which would cost an allocation on every request hash.
func (s JSONStyle) AppendParams(dst []byte, p tollgate.Params) []byte {
	fields := p
	if s.SortKeys && !slices.IsSortedFunc(p, byKey) {
		// Sorted on the stack when small, for the same reason.
		var small [smallObject]tollgate.Field
		fields = append(small[:0:min(len(p), smallObject)], p...)
		slices.SortFunc(fields, byKey)
	}
	dst = append(dst, '{')
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = s.AppendString(dst, f.Key)
		dst = append(dst, ": "...)
		dst = s.AppendJSON(dst, f.Value)
	}
	return append(dst, '}')
}

// smallObject is the most fields AppendJSON sorts without allocating.
const smallObject = 16

// AppendJSON appends v, written with Python's default separators ", " and
// ": ", to dst. Numbers are re-spelt as Python would print them after
// json.loads (so 1e2 becomes 100.0).
func (s JSONStyle) AppendJSON(dst []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if t {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case json.Number:
		return append(dst, FormatNumber(t)...)
	case string:
		return s.AppendString(dst, t)
	case []string:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = s.AppendString(dst, e)
		}
		return append(dst, ']')
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = s.AppendJSON(dst, e)
		}
		return append(dst, ']')
	case tollgate.Params:
		return s.AppendParams(dst, t)
	case float64:
		return append(dst, FormatFloat(t)...)
	case int:
		return fmt.Appendf(dst, "%d", t)
	case int64:
		return fmt.Appendf(dst, "%d", t)
	}
	// Not part of the value model: fall back to encoding/json so nothing is
	// silently dropped.
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

func byKey(a, b tollgate.Field) int { return strings.Compare(a.Key, b.Key) }

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as json.dumps does.
func (s JSONStyle) AppendString(dst []byte, str string) []byte {
	dst = append(dst, '"')
	start := 0 // str[start:i] needs no escaping and is not yet appended
	for i := 0; i < len(str); {
		c := str[i]
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') || (c == 0x7f && !s.ASCII) {
			i++
			continue
		}
		if c >= utf8.RuneSelf && !s.ASCII {
			r, size := utf8.DecodeRuneInString(str[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		dst = append(dst, str[start:i]...)
		if c < utf8.RuneSelf {
			dst = appendEscapedASCII(dst, c)
			i++
		} else {
			r, size := utf8.DecodeRuneInString(str[i:])
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				dst = appendU(appendU(dst, hi), lo)
			} else {
				dst = appendU(dst, r) // invalid bytes become U+FFFD, as Python's decoder would
			}
			i += size
		}
		start = i
	}
	dst = append(dst, str[start:]...)
	return append(dst, '"')
}

func appendEscapedASCII(dst []byte, c byte) []byte {
	switch c {
	case '"':
		return append(dst, `\"`...)
	case '\\':
		return append(dst, `\\`...)
	case '\n':
		return append(dst, `\n`...)
	case '\r':
		return append(dst, `\r`...)
	case '\t':
		return append(dst, `\t`...)
	case '\b':
		return append(dst, `\b`...)
	case '\f':
		return append(dst, `\f`...)
	}
	return appendU(dst, rune(c)) // other control characters and DEL
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
