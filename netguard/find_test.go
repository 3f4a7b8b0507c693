package netguard

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// found lists what FindURLs reports for s as "text -> url" or "text ERR".
func found(s string) []string {
	var out []string
	FindURLs(s, func(text string, u *URL, err error) {
		if err != nil {
			out = append(out, text+" ERR")
			return
		}
		out = append(out, text+" -> "+u.String())
	})
	return out
}

func TestFindURLs(t *testing.T) {
	cases := map[string][]string{
		// Wrappers clients strip (Python urllib unwrap, java.net.URL, jar:).
		"url:http://169.254.169.254/latest":    {"url:http://169.254.169.254/latest -> http://169.254.169.254/latest"},
		"URL:http://127.0.0.1/":                {"URL:http://127.0.0.1/ -> http://127.0.0.1/"},
		"Url: http://127.0.0.1/":               {"Url: http://127.0.0.1/ -> http://127.0.0.1/"},
		"<URL:http://127.0.0.1/>":              {"<URL:http://127.0.0.1/> -> http://127.0.0.1/"},
		"<http://127.0.0.1/>":                  {"<http://127.0.0.1/> -> http://127.0.0.1/"},
		"jar:http://10.0.0.1/x.jar!/":          {"jar:http://10.0.0.1/x.jar!/ -> http://10.0.0.1/x.jar!/"},
		"jar:url:http://10.0.0.1/x.jar!/a":     {"jar:url:http://10.0.0.1/x.jar!/a -> http://10.0.0.1/x.jar!/a"},
		" \x00<URL: jar:URL:HTTP://H.com/> \n": {" \x00<URL: jar:URL:HTTP://H.com/> \n -> http://h.com/"},
		"url:https:evil.com":                   {"url:https:evil.com -> https://evil.com/"},
		"<url:https:\\\\evil.com>":             {"<url:https:\\\\evil.com> -> https://evil.com/"},
		// Anywhere in text, trailing punctuation left out, brackets kept
		// when they are the URL's.
		"see http://a.com/x, and (http://b.com/y).":   {"http://a.com/x -> http://a.com/x", "http://b.com/y -> http://b.com/y"},
		"“http://a.com/x” [w](http://b.com/A_(c))":    {"http://a.com/x -> http://a.com/x", "http://b.com/A_(c) -> http://b.com/A_(c)"},
		"ip http://[::1]:8080/ here":                  {"http://[::1]:8080/ -> http://[::1]:8080/"},
		"view-source:http://10.1.1.1/ and Re:ftp://h": {"http://10.1.1.1/ -> http://10.1.1.1/", "ftp://h -> ftp://h/"},
		"https://a.com/?next=http://127.0.0.1/":       {"https://a.com/?next=http://127.0.0.1/ -> https://a.com/?next=http://127.0.0.1/", "http://127.0.0.1/ -> http://127.0.0.1/"},
		"HTTPS://A.com/x and more":                    {"HTTPS://A.com/x and more -> https://a.com/x and more", "HTTPS://A.com/x -> https://a.com/x"},
		"gopher://10.0.0.1:70/_x,redis://127.0.0.1":   {"gopher://10.0.0.1:70/_x,redis://127.0.0.1 -> gopher://10.0.0.1/_x,redis://127.0.0.1", "redis://127.0.0.1 -> redis://127.0.0.1/"},
		// As a whole, tabs and newlines are deleted (WHATWG); in text they
		// end a URL. Both readings are checked.
		"a\thttp://a.com\n@evil.com/": {"a\thttp://a.com\n@evil.com/ -> ahttp://evil.com/", "http://a.com -> http://a.com/"},
		// Backslashes and JSON-escaped slashes.
		// Python reads no host here, WHATWG evil.com: refused.
		"go to https:\\\\evil.com\\x now":   {"https:\\\\evil.com\\x ERR"},
		`see http:/\evil.com/ now`:          {`http:/\evil.com/ -> http://evil.com/`},
		`text http:\/\/127.0.0.1\/a more`:   {`http:\/\/127.0.0.1\/a -> http://127.0.0.1/a`},
		`bad http://a.com\@evil.com/ there`: {`http://a.com\@evil.com/ ERR`},
		// Scheme-relative references that name a host.
		"fetch //169.254.169.254/latest": {"//169.254.169.254/latest -> //169.254.169.254/latest"},
		`src="//evil.com/x.js"`:          {"//evil.com/x.js -> //evil.com/x.js"},
		`\\fileserver\share\x`:           {`\\fileserver\share\x -> //fileserver/share/x`},
		`u=\/\/localhost`:                {`\/\/localhost -> //localhost/`},
		"//intranet:8080":                {"//intranet:8080 -> //intranet:8080/"},
		"//evil.com\\@good.com/":         {"//evil.com\\@good.com/ ERR"},
		// JSON documents: their strings, escapes decoded, nested JSON too.
		`{"u":"http:\/\/169.254.169.254\/x","k":["\u0068ttp://10.0.0.2/"]}`: {"http://169.254.169.254/x -> http://169.254.169.254/x", "http://10.0.0.2/ -> http://10.0.0.2/"},
		`{"v":"{\"w\":\"//10.0.0.1/\"}"}`:                                   {"//10.0.0.1/ -> //10.0.0.1/"},
		`"url:http://127.0.0.1/"`:                                           {"url:http://127.0.0.1/ -> http://127.0.0.1/"},
		`{"http://10.9.9.9/": 1}`:                                           {"http://10.9.9.9/ -> http://10.9.9.9/"},
		`[1, "x" oops http://127.0.0.1/]`:                                   {"http://127.0.0.1/ -> http://127.0.0.1/"},
		// Not URLs.
		"":                         nil,
		"plain words":              nil,
		"10:30 and/or 1/2/2024":    nil,
		"// TODO: fix this":        nil,
		"//go:build linux":         nil,
		"x = a //increment":        nil,
		"path/to//file":            nil,
		"Use the https:// prefix":  nil,
		"C:\\Users\\me":            nil,
		"mailto:a@b.com":           nil,
		`{"a": "no urls", "b": 1}`: nil,
	}
	for in, want := range cases {
		if got := found(in); !reflect.DeepEqual(got, want) {
			t.Errorf("FindURLs(%q):\n got %q\nwant %q", in, got, want)
		}
	}
}

// Strings built so that URLs overlap URLs are refused once, quickly,
// instead of being read in quadratic time.
func TestFindURLsBudget(t *testing.T) {
	s := strings.Repeat("a://", 200_000)
	start := time.Now()
	var errs []error
	FindURLs(s, func(text string, u *URL, err error) {
		if err != nil {
			errs = append(errs, err)
			if len(text) > 70 {
				t.Errorf("report quotes %d bytes", len(text))
			}
		}
	})
	if len(errs) != 1 || !errors.Is(errs[0], errTooManyURLs) {
		t.Errorf("got errors %v, want one errTooManyURLs", errs)
	}
	// Trailing punctuation that every URL runs into is charged too.
	FindURLs(strings.Repeat("a://", 50_000)+strings.Repeat(")", 200_000), func(string, *URL, error) {})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	// Ordinary text with many URLs is well within the budget.
	many := strings.Repeat("see https://a.com/x?u=https://b.com/ ", 10_000)
	n := 0
	FindURLs(many, func(_ string, _ *URL, err error) {
		if err != nil {
			t.Fatalf("ordinary text refused: %v", err)
		}
		n++
	})
	if n != 20_000 {
		t.Errorf("found %d URLs, want 20000", n)
	}
}

// JSON nested deeper than maxJSONNesting is still scanned as text.
func TestFindURLsDeepJSON(t *testing.T) {
	s := "http://127.0.0.1/"
	for range maxJSONNesting + 3 {
		s = `["` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"]`
	}
	got := found(s)
	if len(got) != 1 || !strings.HasSuffix(got[0], "-> http://127.0.0.1/") {
		t.Errorf("got %q", got)
	}
}
