package netguard

import (
	"strings"
	"unicode/utf8"
)

// glob is a compiled Python fnmatch pattern (Tollgate spec Appendix A.3):
// `*` matches any run of characters (including "/" and none), `?` exactly
// one character, `[abc]`, `[a-z]` and `[!abc]` one character of a class; an
// unmatched `[` is a literal and there is no escape character. Matching is
// by code point, as Python's is.
//
// Common shapes (exact text, "prefix*", "*suffix", "*infix*", "*") are matched with
// string comparisons; everything else with the classic single-backtrack
// wildcard algorithm, which is O(len(pattern)·len(input)) at worst.
type glob struct {
	shape globShape
	lit   string // exact, prefix or suffix text for the fast shapes
	toks  []globTok
}

type globShape uint8

const (
	globGeneral globShape = iota
	globExact
	globPrefix   // lit + "*"
	globSuffix   // "*" + lit
	globContains // "*" + lit + "*"
	globAny      // "*"
)

type globTokKind uint8

const (
	tokLit globTokKind = iota
	tokOne
	tokClass
	tokStar
)

type globTok struct {
	kind globTokKind
	lit  string     // tokLit: one character as written (invalid UTF-8 kept byte for byte)
	cls  *charClass // tokClass
}

// charClass is one `[...]` set.
type charClass struct {
	negate bool
	fold   bool // also match the upper-case form of an ASCII letter
	ranges []runeRange
}

type runeRange struct{ lo, hi rune }

// compileGlob compiles pat. With fold, ASCII letters in literals are
// lower-cased and classes also accept the upper-case form of a letter, so
// the pattern ignores case against lower-case input (URL schemes and hosts
// are lower-case). Class ranges keep their text, so [A-Z] still means A to Z.
func compileGlob(pat string, fold bool) *glob {
	var toks []globTok
	for i := 0; i < len(pat); {
		switch pat[i] {
		case '*':
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, globTok{kind: tokStar})
			}
			i++
		case '?':
			toks = append(toks, globTok{kind: tokOne})
			i++
		case '[':
			cls, next, ok := parseClass(pat, i+1)
			if !ok {
				toks = append(toks, globTok{kind: tokLit, lit: "["})
				i++
				continue
			}
			cls.fold = fold
			toks = append(toks, globTok{kind: tokClass, cls: cls})
			i = next
		default:
			_, n := utf8.DecodeRuneInString(pat[i:])
			lit := pat[i : i+n]
			if fold {
				lit = lowerASCII(lit)
			}
			toks = append(toks, globTok{kind: tokLit, lit: lit})
			i += n
		}
	}
	return shapeGlob(toks)
}

// parseClass parses a class whose body starts at pat[i] (just after "["),
// following fnmatch.translate: a leading "!" negates, a "]" right after "["
// or "[!" is a literal, "a-z" is a range (empty ranges match nothing), a "-"
// first or last is a literal. ok is false when there is no closing "]".
func parseClass(pat string, i int) (cls *charClass, next int, ok bool) {
	j := i
	if j < len(pat) && pat[j] == '!' {
		j++
	}
	if j < len(pat) && pat[j] == ']' {
		j++
	}
	end := strings.IndexByte(pat[j:], ']')
	if end < 0 {
		return nil, 0, false
	}
	end += j
	body := pat[i:end]
	cls = &charClass{}
	if strings.HasPrefix(body, "!") {
		cls.negate = true
		body = body[1:]
	}
	runes := []rune(body)
	for k := 0; k < len(runes); k++ {
		lo, hi := runes[k], runes[k]
		if k+2 < len(runes) && runes[k+1] == '-' {
			hi = runes[k+2]
			k += 2
		}
		if lo <= hi {
			cls.ranges = append(cls.ranges, runeRange{lo, hi})
		}
	}
	return cls, end + 1, true
}

func shapeGlob(toks []globTok) *glob {
	g := &glob{toks: toks}
	stars, others := 0, 0
	for _, t := range toks {
		switch t.kind {
		case tokStar:
			stars++
		case tokLit:
		default:
			others++
		}
	}
	if others > 0 || stars > 2 {
		return g
	}
	if stars == 2 {
		if len(toks) > 2 && toks[0].kind == tokStar && toks[len(toks)-1].kind == tokStar {
			g.shape, g.lit = globContains, litText(toks[1:len(toks)-1])
		}
		return g
	}
	switch {
	case stars == 0:
		g.shape, g.lit = globExact, litText(toks)
	case len(toks) == 1:
		g.shape = globAny
	case toks[len(toks)-1].kind == tokStar:
		g.shape, g.lit = globPrefix, litText(toks[:len(toks)-1])
	case toks[0].kind == tokStar:
		g.shape, g.lit = globSuffix, litText(toks[1:])
	}
	return g
}

func litText(toks []globTok) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.lit)
	}
	return b.String()
}

// hasMeta reports whether the compiled pattern is more than a literal.
func (g *glob) hasMeta() bool { return g.shape != globExact }

func (g *glob) match(s string) bool {
	switch g.shape {
	case globExact:
		return s == g.lit
	case globAny:
		return true
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	case globContains:
		return strings.Contains(s, g.lit)
	}
	toks := g.toks
	ti, si := 0, 0
	starTok, starPos := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			t := toks[ti]
			if t.kind == tokStar {
				starTok, starPos = ti, si
				ti++
				continue
			}
			if n := t.matchAt(s, si); n > 0 {
				ti++
				si += n
				continue
			}
		}
		if starTok < 0 {
			return false
		}
		// Let the last star swallow one more character and retry.
		_, n := decodeRune(s, starPos)
		starPos += n
		ti, si = starTok+1, starPos
	}
	for ti < len(toks) && toks[ti].kind == tokStar {
		ti++
	}
	return ti == len(toks)
}

func decodeRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// matchAt returns how many bytes of s at i the token matches, 0 for none.
func (t globTok) matchAt(s string, i int) int {
	if t.kind == tokLit {
		if strings.HasPrefix(s[i:], t.lit) {
			return len(t.lit)
		}
		return 0
	}
	r, n := decodeRune(s, i)
	if t.kind == tokOne || t.cls.matches(r) {
		return n
	}
	return 0
}

func (c *charClass) matches(r rune) bool {
	in := c.contains(r)
	if !in && c.fold && 'a' <= r && r <= 'z' {
		in = c.contains(r - 'a' + 'A')
	}
	return in != c.negate
}

func (c *charClass) contains(r rune) bool {
	for _, rg := range c.ranges {
		if rg.lo <= r && r <= rg.hi {
			return true
		}
	}
	return false
}
