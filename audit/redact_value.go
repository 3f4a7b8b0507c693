package audit

import (
	"encoding/base64"
	"math"
	"slices"
	"strings"
)

// Text returns s with every secret-looking part replaced by Redacted, so
// that a secret under an innocent key ("db_url", "auth", an intent reason)
// does not leave the process either. It finds
//
//   - the password of a URL's userinfo: postgres://admin:[REDACTED]@db/prod;
//   - HTTP credentials: "Bearer [REDACTED]", and "Basic [REDACTED]" when
//     the base64 decodes to user:password;
//   - name=value and name: value pairs (query strings, DSNs, JSON inside a
//     string) whose name the Redactor's key terms match: password=[REDACTED];
//   - PEM private key blocks, whole;
//   - known token formats: JWTs (eyJ….….…), GitHub (ghp_, gho_, ghu_,
//     ghs_, ghr_, github_pat_), GitLab (glpat-), Slack (xoxb-, xoxp-, …,
//     xapp-), AWS access key ids (AKIA…, ASIA…), Stripe (sk_live_,
//     rk_live_, whsec_, …), OpenAI/Anthropic-style sk-…, Google (AIza…),
//     npm (npm_), SendGrid (SG.);
//   - random-looking strings of 20 to 1024 characters (base64 or hex
//     alphabet, few word-like runs, a digit or mixed case): a heuristic
//     that catches most generated keys, not all. UUIDs are left alone.
//
// It returns s itself (no allocation) when nothing matches, and behaves the
// same for every input: s is untrusted, so the scan is linear and never
// panics. A Redactor without terms (NewRedactor()) returns s unchanged.
func (r *Redactor) Text(s string) string {
	out, _ := r.text(s)
	return out
}

// text is Text that also says whether s changed.
func (r *Redactor) text(s string) (string, bool) {
	if r == nil {
		r = defaultRedactor
	}
	if !r.values || len(s) < minSecretLen {
		return s, false
	}
	var sc scan
	sc.pem(s)
	sc.urls(s)
	sc.schemes(s)
	sc.pairs(s, r)
	sc.words(s)
	return sc.apply(s), len(sc.spans) > 0
}

// minSecretLen is the shortest text Text inspects: "a:b@c://" forms aside,
// nothing shorter is worth redacting by value (keys still redact it).
const minSecretLen = 6

// span is a half-open byte range of s to replace.
type span struct{ from, to int }

// scan collects the spans to redact; most texts have none, so spans is
// allocated only on the first find.
type scan struct{ spans []span }

func (sc *scan) add(from, to int) {
	if from < to {
		sc.spans = append(sc.spans, span{from, to})
	}
}

// apply replaces the spans (merged where they overlap) with Redacted.
func (sc *scan) apply(s string) string {
	if len(sc.spans) == 0 {
		return s
	}
	slices.SortFunc(sc.spans, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for i := 0; i < len(sc.spans); {
		from, to := sc.spans[i].from, sc.spans[i].to
		for i++; i < len(sc.spans) && sc.spans[i].from <= to; i++ {
			to = max(to, sc.spans[i].to)
		}
		b.WriteString(s[at:from])
		b.WriteString(Redacted)
		at = to
	}
	b.WriteString(s[at:])
	return b.String()
}

// pem redacts "-----BEGIN … PRIVATE KEY-----" blocks up to their END line
// (or to the end of s when it is cut off).
func (sc *scan) pem(s string) {
	const begin, end = "-----BEGIN ", "-----END "
	for at := 0; ; {
		i := strings.Index(s[at:], begin)
		if i < 0 {
			return
		}
		i += at
		head := s[i+len(begin):]
		eol := strings.Index(head, "-----")
		if eol < 0 {
			return
		}
		at = i + len(begin) + eol + 5
		if !strings.HasSuffix(head[:eol], "PRIVATE KEY") {
			continue
		}
		to := len(s)
		if j := strings.Index(s[at:], end); j >= 0 {
			to = at + j + len(end)
			if k := strings.Index(s[to:], "-----"); k >= 0 {
				to += k + 5
			}
		}
		sc.add(i, to)
		at = to
	}
}

// urls redacts the password in scheme://user:password@host.
func (sc *scan) urls(s string) {
	for at := 0; ; {
		i := strings.Index(s[at:], "://")
		if i < 0 {
			return
		}
		from := at + i + 3
		to := from
		for to < len(s) && !strings.ContainsRune("/?#\"'<> \t\r\n", rune(s[to])) {
			to++
		}
		if userinfo, _, ok := cutLast(s[from:to], '@'); ok {
			if c := strings.IndexByte(userinfo, ':'); c >= 0 {
				sc.add(from+c+1, from+len(userinfo))
			}
		}
		at = to
	}
}

// cutLast splits s around its last sep.
func cutLast(s string, sep byte) (before, after string, found bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// schemes redacts the credentials of "Bearer <token>" and of "Basic
// <base64 of user:password>" (the check keeps "basic understanding" intact).
func (sc *scan) schemes(s string) {
	for _, scheme := range [...]string{"bearer", "basic"} {
		for at := 0; ; {
			i := indexFold(s[at:], scheme)
			if i < 0 {
				break
			}
			i += at
			at = i + len(scheme)
			if i > 0 && isWordByte(s[i-1]) {
				continue
			}
			from := at
			for from < len(s) && (s[from] == ' ' || s[from] == '\t') {
				from++
			}
			if from == at {
				continue
			}
			to := from
			for to < len(s) && (isWordByte(s[to]) || s[to] == '=') {
				to++
			}
			cred := s[from:to]
			if scheme == "bearer" && len(cred) >= 8 || scheme == "basic" && isBasicCredential(cred) {
				sc.add(from, to)
			}
			at = to
		}
	}
}

func isBasicCredential(s string) bool {
	if len(s) < 4 || len(s) > 4096 {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return err == nil && strings.IndexByte(string(dec), ':') > 0
}

// indexFold is strings.Index for an ASCII lower-case needle, ignoring ASCII
// case in s.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		if s[i]|0x20 != needle[0] { // fast skip; needle[0] is a letter
			continue
		}
		j := 1
		for j < len(needle) && lowerASCII(s[i+j]) == needle[j] {
			j++
		}
		if j == len(needle) {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// pairs redacts the value of name=value and name: value (also "name":
// "value", JSON inside a string) when r matches name.
func (sc *scan) pairs(s string, r *Redactor) {
	for i := 0; i < len(s); i++ {
		if s[i] != '=' && s[i] != ':' {
			continue
		}
		end := i
		if end > 0 && s[end-1] == '"' {
			end--
		}
		start := end
		for start > 0 && end-start < maxPairName && isNameByte(s[start-1]) {
			start--
		}
		if start == end || !r.Match(s[start:end]) {
			continue
		}
		from := i + 1
		if s[i] == ':' {
			if strings.HasPrefix(s[from:], "//") {
				continue // a URL's scheme, handled by urls
			}
			for from < len(s) && (s[from] == ' ' || s[from] == '\t') {
				from++
			}
		}
		to := from
		if from < len(s) && s[from] == '"' {
			from++
			for to = from; to < len(s) && s[to] != '"'; to++ {
				if s[to] == '\\' {
					to++
				}
			}
			to = min(to, len(s))
		} else {
			for to < len(s) && !strings.ContainsRune("&;, \t\r\n\"')}]", rune(s[to])) {
				to++
			}
		}
		// "Authorization: Bearer …" keeps its scheme: schemes redacts the
		// credential after it.
		if v := s[from:to]; v != Redacted && !strings.EqualFold(v, "bearer") && !strings.EqualFold(v, "basic") {
			sc.add(from, to)
		}
		i = max(i, to-1)
	}
}

// maxPairName bounds how far back pairs looks for a name.
const maxPairName = 64

func isNameByte(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '.'
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isWordByte reports whether c can be part of a token: base64 and base64url
// letters, and the separators of JWTs and prefixed tokens.
func isWordByte(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '_' || c == '-' || c == '.' || c == '~'
}

// words looks at every run of token bytes for known token formats and for
// random-looking segments.
func (sc *scan) words(s string) {
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		for j < len(s) && s[j] == '=' { // base64 padding
			j++
		}
		if j-i >= minTokenLen {
			sc.word(s, i, j)
		}
		i = j
	}
}

// minTokenLen is the shortest run words inspects (the shortest known
// format, "AKIA" and 16 characters, is 20 long).
const minTokenLen = 20

// word inspects s[from:to], a run of token bytes.
func (sc *scan) word(s string, from, to int) {
	w := s[from:to]
	if strings.HasPrefix(w, "eyJ") && strings.Count(w, ".") >= 2 {
		sc.add(from, to) // a JWT (or JWS/JWE): header.payload.signature
		return
	}
	for i := 0; i < len(w); i++ {
		if i > 0 && isAlnum(w[i-1]) {
			continue
		}
		if n := knownToken(w[i:]); n > 0 {
			sc.add(from+i, from+i+n)
			i += n - 1
		}
	}
	// Random-looking segments, split at the bytes no key alphabet uses.
	for i := 0; i < len(w); {
		j := i
		for j < len(w) && w[j] != '.' && w[j] != '~' {
			j++
		}
		if seg := w[i:j]; len(seg) >= minTokenLen && len(seg) <= maxRandomLen && looksRandom(seg) {
			sc.add(from+i, from+j)
		}
		i = j + 1
	}
}

// maxRandomLen is the longest segment judged by looksRandom: credentials
// are short, and longer runs are data (base64 of bytes), which the record
// bounds instead of hiding.
const maxRandomLen = 1024

// tokenFormat is a credential format recognised by its prefix.
type tokenFormat struct {
	prefix string
	min    int    // characters after the prefix, at least
	extra  string // allowed besides ASCII letters and digits
}

var tokenFormats = [...]tokenFormat{
	{"github_pat_", 20, "_"},
	{"ghp_", 30, ""}, {"gho_", 30, ""}, {"ghu_", 30, ""}, {"ghs_", 30, ""}, {"ghr_", 30, ""},
	{"glpat-", 20, "_-"},
	{"xoxb-", 10, "-"}, {"xoxa-", 10, "-"}, {"xoxp-", 10, "-"}, {"xoxr-", 10, "-"}, {"xoxs-", 10, "-"}, {"xapp-", 10, "-"},
	{"AKIA", 16, ""}, {"ASIA", 16, ""},
	{"sk_live_", 10, ""}, {"sk_test_", 10, ""}, {"rk_live_", 10, ""}, {"rk_test_", 10, ""}, {"whsec_", 10, ""},
	{"sk-", 20, "_-"},
	{"AIza", 30, "_-"},
	{"npm_", 30, ""},
	{"SG.", 20, "_-."},
}

// tokenStarts holds the first byte of every tokenFormats prefix.
const tokenStarts = "gxASsrwn"

// knownToken returns the length of the token at the start of w, or 0.
func knownToken(w string) int {
	if w == "" || strings.IndexByte(tokenStarts, w[0]) < 0 {
		return 0
	}
	for _, f := range tokenFormats {
		if !strings.HasPrefix(w, f.prefix) {
			continue
		}
		n := len(f.prefix)
		for n < len(w) && (isAlnum(w[n]) || strings.IndexByte(f.extra, w[n]) >= 0) {
			n++
		}
		if n-len(f.prefix) >= f.min {
			return n
		}
	}
	return 0
}

// looksRandom reports whether seg (base64/base64url/hex alphabet, maybe
// padded) reads as generated rather than written: Shannon entropy of at
// least 3 bits per byte, less than half of its letters in word-like runs
// (four or more letters of one case, or a capital and lower-case letters),
// at most one separator (+ / _ -) in eight bytes, and a digit or both
// letter cases. Identifiers such as "customer_12345_invoice", paths and
// camelCase names have long word-like runs or many separators; generated
// keys rarely do. It catches about 19 in 20 random base64 strings of 20
// to 40 characters and nearly every random hex string of 24 or more.
func looksRandom(seg string) bool {
	seg = strings.TrimRight(seg, "=")
	if len(seg) < minTokenLen || isUUID(seg) {
		return false
	}
	var counts [256]uint16
	var digit, lower, upper bool
	alnum, wordy, run := 0, 0, 0
	prev := byte(0) // class of the byte before: 'a', 'A', '0' or 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		counts[c]++
		cls := byte(0)
		switch {
		case 'a' <= c && c <= 'z':
			cls, lower = 'a', true
		case 'A' <= c && c <= 'Z':
			cls, upper = 'A', true
		case '0' <= c && c <= '9':
			cls, digit = '0', true
		}
		if cls != 0 {
			alnum++
		}
		switch {
		case cls != 0 && cls != '0' && (cls == prev || prev == 'A' && cls == 'a' && run == 1):
			run++
		default:
			if run >= 4 {
				wordy += run
			}
			run = 0
			if cls == 'a' || cls == 'A' {
				run = 1
			}
		}
		prev = cls
	}
	if run >= 4 {
		wordy += run
	}
	// Separators every few bytes make a path or an identifier
	// (/api/v2/users/12345, img_20240101_HDR_v2); in a key they are rare.
	if seps := len(seg) - alnum; alnum == 0 || 8*seps > len(seg) || 2*wordy >= alnum || !(digit && (lower || upper) || lower && upper) {
		return false
	}
	h := 0.0
	n := float64(len(seg))
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h >= 3
}

// isUUID reports whether s is 8-4-4-4-12 hex digits: identifiers, not keys.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
