package netguard

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxJSONNesting bounds how many JSON documents deep the finder decodes
// (a parameter string holding JSON whose strings hold JSON ...). Deeper
// strings are still scanned as text.
const maxJSONNesting = 16

// errTooManyURLs refuses strings built so that URLs overlap URLs over and
// over ("a://a://a://..."): inspecting every reading would take time
// quadratic in the length.
var errTooManyURLs = errors.New("more nested URLs than can be inspected")

// FindURLs calls fn for every URL in s, in order of appearance, the way
// clients that fetch what they are given could read s:
//
//   - s as a whole, after the wrappers clients strip (see unwrap): white
//     space and control characters, "<...>", "url:"/"URL:" and "jar:"
//     prefixes, nested ("<URL:jar:url:http://h/x.jar!/>"); text is s;
//   - every "scheme://" anywhere in s (in prose, inside another URL's
//     query, after "jar:" or "view-source:"), where ":" may be followed by
//     any mix of '/' and '\' (WHATWG reads "http:\\h" as http://h/) and
//     JSON-escaped slashes count ("http:\/\/h"); the URL runs to the next
//     white space, '"', '<', '>' or '`', minus trailing punctuation; text
//     is that part of s;
//   - every scheme-relative reference "//host..." (also "\\host" and
//     "\/\/host") that starts s or follows a character that cannot be part
//     of a word or a URL, and names a host: an IP address, a name with a
//     dot, localhost or metadata names, or any name followed by a port or
//     a slash. Its Scheme is empty: Pattern.Match requires a pattern to
//     match it as http and as https, Pattern.Blocks as either;
//   - when s is a JSON document (it starts with '{', '[' or '"' and
//     decodes), the URLs in each of its strings, keys included, instead of
//     its raw text.
//
// err is not nil for URL-shaped text that cannot be read safely (see
// Parse); u is then nil. u is only valid during the call.
func FindURLs(s string, fn func(text string, u *URL, err error)) {
	var u URL
	findURLs(s, &u, func(text string, err error) {
		if err != nil {
			fn(text, nil, err)
			return
		}
		fn(text, &u, nil)
	})
}

// findURLs is FindURLs writing every URL into one caller-owned u, so the
// guard's hot path does not allocate.
func findURLs(s string, u *URL, fn func(text string, err error)) {
	f := finder{budget: 4*len(s) + 4096}
	f.find(s, 0, u, fn)
}

// finder is the state of one search. The URL being filled in and the
// callback are passed along as arguments instead of being kept here:
// storing them where results are also stored would make the compiler move
// both to the heap on every call.
type finder struct {
	// budget is how many more bytes of candidate URLs may be parsed. URLs
	// in text rarely overlap, so four times the input is generous.
	budget  int
	stopped bool
	// The reading of the current string as a whole, when it is a URL:
	// the index of its scheme's colon, its text and the URL.
	wholeColon int
	wholeText  string
	wholeURL   URL
	wholeErr   string // the error's text when malformed
}

func (f *finder) find(s string, depth int, u *URL, fn func(string, error)) {
	if f.stopped {
		return
	}
	slash := strings.IndexByte(s, '/') >= 0 || strings.IndexByte(s, '\\') >= 0
	if !slash && strings.IndexByte(s, ':') < 0 {
		return // every URL form needs a ':' or two slashes
	}
	if depth < maxJSONNesting {
		if strs, ok := jsonStrings(s); ok {
			for _, t := range strs {
				f.find(t, depth+1, u, fn)
			}
			return
		}
	}
	f.whole(s, u, fn)
	if slash {
		f.scan(s, u, fn)
	}
}

// spend charges n bytes of parsing in s to the budget and reports whether
// it allows them; the first time it does not, s is refused and the search
// ends.
func (f *finder) spend(s string, n int, fn func(string, error)) bool {
	if f.stopped {
		return false
	}
	if f.budget -= n; f.budget < 0 {
		f.stopped = true
		fn(clip(s), errTooManyURLs)
		return false
	}
	return true
}

// whole reports s itself when, unwrapped, it is a URL (or malformed), and
// remembers that reading so scan does not report it a second time.
func (f *finder) whole(s string, u *URL, fn func(string, error)) {
	f.wholeColon = -1
	start, end := unwrap(s)
	t := s[start:end]
	if t == "" || !isAlpha(t[0]) || !f.spend(s, len(t), fn) {
		return
	}
	err := parseInto(t, u)
	if err == ErrNotURL {
		return
	}
	u.Raw = s
	f.wholeColon, f.wholeText, f.wholeErr = start+strings.IndexByte(t, ':'), t, ""
	if err == nil {
		f.wholeURL = *u
	} else {
		f.wholeErr = err.Error()
	}
	fn(s, err)
}

// sameAsWhole reports whether the URL at colon, just parsed into u
// with result err, reads as whole read it ("http://h/x." and
// "http://h/x"), so it need not be reported again.
func (f *finder) sameAsWhole(colon int, u *URL, err error) bool {
	if colon != f.wholeColon {
		return false
	}
	if err != nil || f.wholeErr != "" {
		return err != nil && err.Error() == f.wholeErr
	}
	w := &f.wholeURL
	return u.Scheme == w.Scheme && u.Host == w.Host && u.Port == w.Port && u.Path == w.Path
}

// unwrap returns the bounds of s without the wrappers clients remove
// before parsing, repeatedly: surrounding white space and control
// characters; "<" and ">" (RFC 1738, Python's urllib.parse.unwrap);
// "url:" in any case (java.net.URL; Python strips "URL:"); and "jar:"
// (Java fetches the URL inside "jar:http://h/x.jar!/entry").
func unwrap(s string) (start, end int) {
	start, end = 0, len(s)
	for {
		t := s[start:end]
		if t != "" && (!isPlainEdge(t[0]) || !isPlainEdge(t[len(t)-1])) {
			left := strings.TrimLeftFunc(t, isTrimmed)
			start += len(t) - len(left)
			t = strings.TrimRightFunc(left, isTrimmed)
			end = start + len(t)
		}
		switch {
		case len(t) >= 2 && t[0] == '<' && t[len(t)-1] == '>':
			start, end = start+1, end-1
		case len(t) >= 4 && (strings.EqualFold(t[:4], "url:") || strings.EqualFold(t[:4], "jar:")):
			start += 4
		default:
			return start, end
		}
	}
}

// scan finds every run of two or more slashes (either way round) and reads
// a URL at each one that follows a scheme's colon or starts a reference.
// Runs are found by searching for "//" and for '\', not for every '/',
// so the path of a URL costs little.
func (f *finder) scan(s string, u *URL, fn func(string, error)) {
	dbl, back := -1, -1 // next "//" and '\' at or after i, found lazily
	for i := 0; i < len(s) && !f.stopped; {
		if dbl < i {
			if dbl = indexFrom(s, "//", i); dbl < 0 {
				dbl = len(s)
			}
		}
		if back < i {
			if back = indexFrom(s, `\`, i); back < 0 {
				back = len(s)
			}
		}
		p := min(dbl, back)
		if p == len(s) {
			return
		}
		for p > i && s[p-1] == '/' {
			p-- // the run began before the backslash: "http:/\h"
		}
		n := countSlashes(s[p:])
		i = p + n
		switch {
		case n < 2:
		case p > 0 && s[p-1] == ':':
			f.absolute(s, p-1, p, n, u, fn)
		case p == 0 || startsReference(s[p-1]):
			f.relative(s, p, n, u, fn)
		}
	}
}

func indexFrom(s, sub string, i int) int {
	if j := strings.Index(s[i:], sub); j >= 0 {
		return i + j
	}
	return -1
}

// absolute reads the URL whose scheme ends at colon; the slash run after
// it is s[p:p+n].
func (f *finder) absolute(s string, colon, p, n int, u *URL, fn func(string, error)) {
	b := colon
	for b > 0 && isSchemeByte(s[b-1]) {
		b--
	}
	for b < colon && !isAlpha(s[b]) {
		b++ // a scheme starts with a letter: "2http://" is http://
	}
	if b == colon {
		f.relative(s, p, n, u, fn) // "://host": at best a reference
		return
	}
	end, stop := urlEnd(s, p+n)
	text := s[b:end]
	if colon == f.wholeColon && text == f.wholeText || !f.spend(s, stop-b, fn) {
		return
	}
	err := parseInto(unescapeSlashes(text), u)
	if err == ErrNotURL || err == errEmptyHost || // "use the https:// prefix"
		f.sameAsWhole(colon, u, err) {
		return
	}
	u.Raw = text
	fn(text, err)
}

// relative reads a scheme-relative reference starting with the slash run
// s[p:p+n]. Prose and code are full of "//", so a reference counts only
// when it names a host, and one that does not parse is ignored unless
// parsers would read it two ways.
func (f *finder) relative(s string, p, n int, u *URL, fn func(string, error)) {
	end, stop := urlEnd(s, p+n)
	text := s[p:end]
	if !f.spend(s, stop-p, fn) {
		return
	}
	t := unescapeSlashes(text)
	k := countSlashes(t)
	rest := t[k:]
	backslashes := strings.IndexByte(t[:k], '/') < 0
	err := parseRelative(text, rest, backslashes, u)
	switch {
	case err == errBackslashInAuthority || err == errManyAt:
		fn(text, err)
		return
	case err != nil || u.Host == "":
		return
	}
	after := len(rest)
	if i := strings.IndexAny(rest, `/\?#`); i >= 0 {
		after = i
	}
	_, named := specialName(u.Host)
	slashAfter := after < len(rest) && (rest[after] == '/' || rest[after] == '\\')
	if u.IP.IsValid() || named || slashAfter || u.Port != "" || strings.IndexByte(u.Host, '.') >= 0 {
		fn(text, nil)
	}
}

// startsReference reports whether a reference may start after c: not in
// the middle of a word, a number, a URL's authority or a path.
func startsReference(c byte) bool {
	return !isSchemeByte(c) && c != '_' && c != '~' && c != '%' && c != '@'
}

func isSchemeByte(c byte) bool {
	return isAlpha(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// urlEnd returns where a URL starting before i ends in text: at white
// space, a control character, '"', '<', '>' or '`' (stop), then without
// trailing punctuation that prose puts after a URL ("(see http://h/x).").
// A closing bracket stays when it closes one opened in the URL
// ("http://[::1]", "/wiki/A_(b)").
func urlEnd(s string, i int) (end, stop int) {
	var open, closed [3]int // (), [], {}
	stop = len(s)
scan:
	for j := i; j < len(s); j++ {
		c := s[j]
		if urlByte[c] == plain {
			continue
		}
		switch k := urlByte[c]; {
		case k == stops:
			stop = j
			break scan
		case k == multibyte:
			r, size := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				stop = j
				break scan
			}
			j += size - 1
		case k >= opens && k < opens+3:
			open[k-opens]++
		default:
			closed[k-closes]++
		}
	}
	end = stop
	for end > i {
		c := s[end-1]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeLastRuneInString(s[i:end])
			if !unicode.IsPunct(r) {
				break
			}
			end -= size
			continue
		}
		if k := strings.IndexByte(")]}", c); k >= 0 {
			if closed[k] <= open[k] {
				break
			}
			closed[k]--
		} else if strings.IndexByte(`.,;:!?'"*\`, c) < 0 {
			break
		}
		end--
	}
	return end, stop
}

// Classes of bytes for urlEnd.
const (
	plain = iota
	stops
	multibyte
	opens  // '(', '[', '{'
	closes = opens + 3
)

var urlByte = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c <= ' ' || c == 0x7f || strings.IndexByte("\"<>`", byte(c)) >= 0:
			t[c] = stops
		case c >= utf8.RuneSelf:
			t[c] = multibyte
		case strings.IndexByte("([{", byte(c)) >= 0:
			t[c] = opens + uint8(strings.IndexByte("([{", byte(c)))
		case strings.IndexByte(")]}", byte(c)) >= 0:
			t[c] = closes + uint8(strings.IndexByte(")]}", byte(c)))
		}
	}
	return t
}()

// unescapeSlashes turns JSON's escaped "\/" into "/".
func unescapeSlashes(s string) string {
	if !strings.Contains(s, `\/`) {
		return s
	}
	return strings.ReplaceAll(s, `\/`, "/")
}

// jsonStrings returns every string (keys included) of s when s is one or
// more JSON values that start with '{', '[' or '"'.
func jsonStrings(s string) ([]string, bool) {
	if s == "" || s[0] != '{' && s[0] != '[' && s[0] != '"' && s[0] > ' ' {
		return nil, false
	}
	t := strings.TrimLeft(s, " \t\r\n")
	if t == "" || t[0] != '{' && t[0] != '[' && t[0] != '"' {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		if str, ok := tok.(string); ok {
			out = append(out, str)
		}
	}
}
