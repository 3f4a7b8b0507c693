package pycompat

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/tollgate-go/tollgate"
)

// Repr writes v as Python's repr() would after json.loads or yaml.safe_load:
// 'text', True, None, 1.0, [1, 'a'], {'k': 'v'}. Tollgate's violation messages
// quote values this way and users match on them.
func Repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case json.Number:
		s := FormatNumber(t)
		switch s { // repr spells these differently from json.dumps
		case "NaN":
			s = "nan"
		case "Infinity":
			s = "inf"
		case "-Infinity":
			s = "-inf"
		}
		b.WriteString(s)
	case string:
		writeStrRepr(b, t)
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case tollgate.Params:
		b.WriteByte('{')
		for i, f := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeStrRepr(b, f.Key)
			b.WriteString(": ")
			writeRepr(b, f.Value)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, t)
	}
}

// writeStrRepr follows CPython's unicode_repr: single quotes unless the text
// holds a single quote and no double quote.
func writeStrRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r >= 0x80 && !unicode.IsPrint(r):
			switch {
			case r <= 0xff:
				fmt.Fprintf(b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(b, `\u%04x`, r)
			default:
				fmt.Fprintf(b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
}
