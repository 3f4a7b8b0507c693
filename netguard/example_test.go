package netguard_test

import (
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/netguard"
)

func Example() {
	guard, err := netguard.New(netguard.Config{
		Default:   "deny",
		Allowlist: []string{"https://api.github.com/*"},
	})
	if err != nil {
		panic(err)
	}
	params, _ := tollgate.ParseParams([]byte(`{
		"source": "https://api.github.com/repos/x",
		"mirrors": ["HTTPS://evil.com/.api.github.com/"],
		"webhook": {"url": "http://0x7f.1:8080/hook"}
	}`))
	for _, v := range guard.Check(params) {
		fmt.Println(v.Description)
	}
	// Output:
	// Parameter 'mirrors[0]': URL 'HTTPS://evil.com/.api.github.com/' not in network policy allowlist
	// Parameter 'webhook.url': URL 'http://0x7f.1:8080/hook' blocked by network policy (loopback address 127.0.0.1)
	// Parameter 'webhook.url': URL 'http://0x7f.1:8080/hook' not in network policy allowlist
}

func ExampleCompilePattern() {
	p, err := netguard.CompilePattern("https://*.example.com/*")
	if err != nil {
		panic(err)
	}
	for _, s := range []string{
		"https://api.example.com/v1",
		"https://evil.com/.example.com/",
		"https://api.example.com@evil.com/",
	} {
		u, _ := netguard.ParseURL(s)
		fmt.Println(s, p.Match(u))
	}
	// Output:
	// https://api.example.com/v1 true
	// https://evil.com/.example.com/ false
	// https://api.example.com@evil.com/ false
}

func ExampleParseURL() {
	u, ok := netguard.ParseURL(" HTTP://admin@[::ffff:7f00:1]:0080/a/../b?q=1#top")
	fmt.Println(ok, u.Scheme, u.Host, u.Port, u.Path, u.IP.IsLoopback())
	// Output: true http 127.0.0.1 80 /b?q=1 true
}

func ExampleWalkURLs() {
	params, _ := tollgate.ParseParams([]byte(`{"a": {"b": ["x", "ftp://files.example/f"]}, "n": 1}`))
	netguard.WalkURLs(params, func(path string, u *netguard.URL) {
		fmt.Println(path, u.Scheme, u.Host)
	})
	// Output: a.b[1] ftp files.example
}
