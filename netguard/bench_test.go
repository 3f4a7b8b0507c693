package netguard

import (
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

// BenchmarkGuardCheck is the hot path: a typical tool call with three
// parameters, one of them a URL, against a small allowlist and blocklist.
func BenchmarkGuardCheck(b *testing.B) {
	g := mustGuard(b, Config{
		Default:   "deny",
		Allowlist: []string{"https://api.github.com/*", "https://arxiv.org/*", "https://*.example.com/*"},
		Blocklist: []string{"http://*", "*.internal.*"},
	})
	p := tollgate.Params{
		{Key: "query", Value: "open issues"},
		{Key: "url", Value: "https://api.github.com/repos/tollgate-go/tollgate/issues?state=open"},
		{Key: "limit", Value: "10"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if vs := g.Check(p); vs != nil {
			b.Fatal(vs)
		}
	}
}

// BenchmarkGuardCheckBlocked measures a refusal (it builds the message).
func BenchmarkGuardCheckBlocked(b *testing.B) {
	g := mustGuard(b, Config{Default: "allow"})
	p := tollgate.Params{{Key: "url", Value: "http://0x7f.1/admin"}}
	b.ReportAllocs()
	for b.Loop() {
		if vs := g.Check(p); len(vs) != 1 {
			b.Fatal(vs)
		}
	}
}

func BenchmarkParseURL(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseURL("https://user@API.GitHub.com:443/repos/a/../b?x=1#f"); !ok {
			b.Fatal("parse failed")
		}
	}
}

// benchText is a free-text parameter of about 1 KB with no URL in it: the
// common case for the finder, which must stay cheap.
var benchText = strings.Repeat("Summarise the open issues: labels, owners; due 10:30. ", 18)

// BenchmarkGuardCheckText measures a typical tool call whose parameters
// are prose with no URL.
func BenchmarkGuardCheckText(b *testing.B) {
	g := mustGuard(b, Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}})
	p := tollgate.Params{{Key: "prompt", Value: benchText}, {Key: "title", Value: "weekly report"}}
	b.ReportAllocs()
	for b.Loop() {
		if vs := g.Check(p); vs != nil {
			b.Fatal(vs)
		}
	}
}

// BenchmarkGuardCheckTextURL measures prose with an allowlisted URL in the
// middle.
func BenchmarkGuardCheckTextURL(b *testing.B) {
	g := mustGuard(b, Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}})
	p := tollgate.Params{{Key: "prompt", Value: benchText + " See https://api.github.com/repos/a/b/issues. " + benchText}}
	b.ReportAllocs()
	for b.Loop() {
		g.Check(p)
	}
}
