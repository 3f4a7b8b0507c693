package netguard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in                       string
		scheme, host, port, path string
	}{
		{"https://api.github.com/repos", "https", "api.github.com", "443", "/repos"},
		{"HTTPS://API.GitHub.COM", "https", "api.github.com", "443", "/"},
		{"  http://x.com/a/../b?q=1#frag  ", "http", "x.com", "80", "/b?q=1"},
		{"\t\nhttp://x.com/\n", "http", "x.com", "80", "/"},
		{"http://x.\tcom/", "http", "x.com", "80", "/"}, // tabs/newlines inside are deleted
		{"\u00a0https://x.com/", "https", "x.com", "443", "/"},
		{"http://x.com/a?", "http", "x.com", "80", "/a?"},
		{"http://x.com?q=/../", "http", "x.com", "80", "/?q=/../"},
		{"http://x.com/%2e%2e/%2E/admin", "http", "x.com", "80", "/admin"},
		{"http://x.com/%7Euser/%2Fx", "http", "x.com", "80", "/~user/%2Fx"},
		{"http://x.com/a/b/..", "http", "x.com", "80", "/a/"},
		{"http://x.com/..", "http", "x.com", "80", "/"},
		{`http://x.com/a\..\b`, "http", "x.com", "80", "/b"},
		{"http://x.com:8080", "http", "x.com", "8080", "/"},
		{"http://x.com:0080/", "http", "x.com", "80", "/"},
		{"http://x.com:/", "http", "x.com", "80", "/"},
		{"http://x.com:0/", "http", "x.com", "0", "/"},
		{"ws://x.com", "ws", "x.com", "80", "/"},
		{"wss://x.com", "wss", "x.com", "443", "/"},
		{"ftp://x.com/f", "ftp", "x.com", "21", "/f"},
		{"gopher://x.com/_x", "gopher", "x.com", "70", "/_x"},
		{"custom+v1.x-y://Host/p", "custom+v1.x-y", "host", "", "/p"},
		{"foo://", "foo", "", "", "/"},
		{"file:///etc/passwd", "file", "", "", "/etc/passwd"},
		{"file:/etc/passwd", "file", "", "", "/etc/passwd"},
		{"file://localhost/etc/passwd", "file", "", "", "/etc/passwd"},
		{"file://server/share", "file", "server", "", "/share"},
		{"https://api.github.com@evil.com/", "https", "evil.com", "443", "/"},
		{"https://user:pass@evil.com:444/", "https", "evil.com", "444", "/"},
		{`https:\\evil.com`, "https", "evil.com", "443", "/"},
		{"https:evil.com/x", "https", "evil.com", "443", "/x"},
		{"https:///evil.com", "https", "evil.com", "443", "/"},
		{"http://localhost./", "http", "localhost", "80", "/"},
		{"http://xn--mnchen-3ya.de/", "http", "xn--mnchen-3ya.de", "80", "/"},
		{"http://MÜNCHEN.de/", "http", "xn--mnchen-3ya.de", "80", "/"},
		{"http://under_score.example/", "http", "under_score.example", "80", "/"},
		{"http://ex%61mple.com/", "http", "example.com", "80", "/"},
	}
	for _, c := range cases {
		u, ok := ParseURL(c.in)
		if !ok {
			_, err := Parse(c.in)
			t.Errorf("ParseURL(%q) failed: %v", c.in, err)
			continue
		}
		got := [4]string{u.Scheme, u.Host, u.Port, u.Path}
		if want := [4]string{c.scheme, c.host, c.port, c.path}; got != want {
			t.Errorf("ParseURL(%q) = %q, want %q", c.in, got, want)
		}
		if u.Raw != c.in {
			t.Errorf("Raw = %q, want %q", u.Raw, c.in)
		}
		if u.IP.IsValid() {
			t.Errorf("ParseURL(%q): IP = %v for a host name", c.in, u.IP)
		}
	}
}

// Every spelling of 127.0.0.1 and 169.254.169.254 that some client would
// connect to normalises to the canonical address.
func TestParseURLIPSpellings(t *testing.T) {
	cases := map[string][]string{
		"127.0.0.1": {
			"127.0.0.1", "2130706433", "0x7f000001", "0X7F000001", "0x7f.1", "0x7f.0.0.1",
			"0177.0.0.1", "0177.0.0.01", "00177.0.0.1", "127.1", "127.0.1", "127.0.0.1.",
			"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]", "[::FFFF:127.0.0.1]",
			"127.0.0.%31", "%31%32%37.0.0.1", "１２７．０．０．１", "127。0。0。1",
		},
		"169.254.169.254": {
			"169.254.169.254", "2852039166", "0xa9fea9fe", "0xA9.0xFE.0xA9.0xFE", "0251.0376.0251.0376",
			"169.254.43518", "169.16689662", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]",
		},
		"::1":           {"[::1]", "[0:0:0:0:0:0:0:1]", "[::0001]", "[0000::1]"},
		"fe80::1":       {"[fe80::1%25eth0]", "[FE80::1%25en0]", "[fe80::1]"},
		"fd00:ec2::254": {"[fd00:ec2::254]", "[fd00:0ec2:0:0:0:0:0:254]"},
	}
	for want, spellings := range cases {
		for _, sp := range spellings {
			for _, raw := range []string{"http://" + sp + "/x", "HTTP://user@" + sp + ":80/x"} {
				u, err := Parse(raw)
				if err != nil {
					t.Errorf("Parse(%q): %v", raw, err)
					continue
				}
				if u.Host != want || u.IP != netip.MustParseAddr(want) {
					t.Errorf("Parse(%q): Host %q IP %v, want %s", raw, u.Host, u.IP, want)
				}
			}
		}
	}
}

func TestParseNotURL(t *testing.T) {
	for _, s := range []string{
		"", "   ", "hello world", "api.github.com/repos", "//evil.com/x", "mailto:a@b.com",
		"urn:isbn:123", `C:\Windows`, "c:/windows", "1http://x.com", "ht tp://x.com",
		"file:etc/passwd", "data:text/plain,hi", "note: see docs", "Δ://x",
	} {
		if _, err := Parse(s); !errors.Is(err, ErrNotURL) {
			t.Errorf("Parse(%q) = %v, want ErrNotURL", s, err)
		}
		if u, ok := ParseURL(s); ok || u != nil {
			t.Errorf("ParseURL(%q) = %v, true", s, u)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	cases := map[string]string{
		`http://a.com\@evil.com/`:    "backslash in authority",
		`gopher://a.com\@127.0.0.1/`: "backslash in authority",
		"http://a@b@evil.com/":       "more than one '@'",
		"http://[::1/":               "missing ']'",
		"http://[::1]x/":             "after IPv6 address",
		"http://[127.0.0.1]/":        "invalid IPv6 address",
		"http://[fe80::1%zz]/":       "invalid percent-escape",
		"http://x.com:80a/":          "invalid port",
		"http://x.com:65536/":        "out of range",
		"http://x.com:99999999999/":  "out of range",
		"http://::1/":                "invalid character",
		"http://ex ample.com/":       "invalid character",
		"http://exa%mple.com/":       "invalid percent-escape",
		"http://ex%2fample.com/":     "invalid character",
		"http://127.0.0.256/":        "invalid IPv4 address",
		"http://1.2.3.4.5/":          "invalid IPv4 address",
		"http://4294967296/":         "invalid IPv4 address",
		"http://08.0.0.1/":           "invalid IPv4 address",
		"http://example.123/":        "invalid IPv4 address",
		"http://a..b/":               "empty label",
		"http://.a/":                 "empty label",
		"http://":                    "empty host",
		"https://?x":                 "empty host",
		"http://user@/":              "empty host",
		"http://xn--a-\u200d.com/":   "invalid international host name",
		"http://x.com:80:80/":        "invalid character",
		"http://x.com%00/":           "invalid character",
		"http:":                      "empty host",
		"ftp://" + strings.Repeat("0", 40) + "177.0.0.1/": "invalid IPv4 address",
	}
	for in, want := range cases {
		_, err := Parse(in)
		if err == nil || errors.Is(err, ErrNotURL) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestURLString(t *testing.T) {
	cases := map[string]string{
		"HTTPS://Example.com:443/a?b#c": "https://example.com/a?b",
		"http://x.com:8080":             "http://x.com:8080/",
		"http://[::1]:8080/x":           "http://[::1]:8080/x",
		"http://[::ffff:127.0.0.1]/":    "http://127.0.0.1/",
		"file:///etc/passwd":            "file:///etc/passwd",
		"foo://h:1/p":                   "foo://h:1/p",
	}
	for in, want := range cases {
		u, ok := ParseURL(in)
		if !ok {
			t.Fatalf("ParseURL(%q) failed", in)
		}
		if got := u.String(); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustParams(t testing.TB, js string) tollgate.Params {
	t.Helper()
	p, err := tollgate.ParseParams([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWalkURLs(t *testing.T) {
	p := mustParams(t, `{
		"url": "https://a.com/",
		"n": 5, "flag": true, "none": null, "text": "not a url", "prose": "see <URL:https://p.com/x>, //q.com/",
		"a": {"b": "HTTP://B.com", "c": {"d": ["x", "ftp://d.com/f"]}},
		"list": ["http://l0.com", "file:///etc/passwd", ["gopher://l2.com"]],
		"bad": "http://a@b@c/"
	}`)
	var got []string
	WalkURLs(p, func(path string, u *URL) { got = append(got, path+"="+u.String()) })
	want := []string{
		"url=https://a.com/",
		"prose=https://p.com/x",
		"prose=//q.com/",
		"a.b=http://b.com/",
		"a.c.d[1]=ftp://d.com/f",
		"list[0]=http://l0.com/",
		"list[1]=file:///etc/passwd",
		"list[2][0]=gopher://l2.com/",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WalkURLs:\n got %q\nwant %q", got, want)
	}
}

func TestWalkStringsPlainValues(t *testing.T) {
	p := tollgate.Params{
		{Key: "m", Value: map[string]any{"z": "3", "a": []string{"1", "2"}, "n": json.Number("4")}},
		{Key: "s", Value: []string{"x"}},
		{Key: "i", Value: 7}, // outside the value model: ignored
	}
	var got []string
	WalkStrings(p, func(path, s string) { got = append(got, path+"="+s) })
	want := []string{"m.a[0]=1", "m.a[1]=2", "m.z=3", "s[0]=x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WalkStrings:\n got %q\nwant %q", got, want)
	}
}

// deepParams nests a URL n levels deep: {"k": {"k": ... "http://127.0.0.1/"}}.
func deepParams(n int) tollgate.Params {
	var v any = "http://127.0.0.1/"
	for range n {
		v = tollgate.Params{{Key: "k", Value: v}}
	}
	return v.(tollgate.Params)
}

func TestWalkStopsAtMaxDepth(t *testing.T) {
	n := 0
	WalkStrings(deepParams(tollgate.MaxDepth+5), func(string, string) { n++ })
	if n != 0 {
		t.Errorf("visited %d strings beyond MaxDepth", n)
	}
	WalkStrings(deepParams(tollgate.MaxDepth), func(string, string) { n++ })
	if n != 1 {
		t.Errorf("visited %d strings at MaxDepth, want 1", n)
	}
	// A self-referencing value must not recurse forever.
	cyc := tollgate.Params{{Key: "k"}}
	cyc[0].Value = cyc
	WalkStrings(cyc, func(string, string) { n++ })
}

func TestParseErrorsAreShort(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	for _, s := range []string{
		"http://" + long + ".123/", "http://a.com:" + long, "http://[::1]" + long, "http://[" + long + "]/", "http://" + long + "..b/",
	} {
		_, err := Parse(s)
		if err == nil || len(err.Error()) > 120 {
			t.Errorf("Parse(%.20q...) error is %d bytes: %.80v", s, len(fmt.Sprint(err)), err)
		}
	}
}
