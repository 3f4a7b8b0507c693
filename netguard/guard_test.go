package netguard

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestBuiltinBlockCategories(t *testing.T) {
	g := mustGuard(t, Config{Default: "allow"})
	cases := map[string]string{
		"http://127.0.0.1/":                "(loopback address 127.0.0.1)",
		"http://0.0.0.0:8080/":             "(unspecified address 0.0.0.0)",
		"http://0/":                        "(unspecified address 0.0.0.0)",
		"http://[::]/":                     "(unspecified address ::)",
		"http://10.1.2.3/":                 "(private address 10.1.2.3)",
		"http://172.16.0.1/":               "(private address 172.16.0.1)",
		"http://172.31.255.255/":           "(private address 172.31.255.255)",
		"http://192.168.1.1/":              "(private address 192.168.1.1)",
		"http://[fd12:3456::1]/":           "(private address fd12:3456::1)",
		"http://169.254.1.1/":              "(link-local address 169.254.1.1)",
		"http://[fe80::1%25eth0]/":         "(link-local address fe80::1)",
		"http://100.64.0.1/":               "(carrier-grade NAT address 100.64.0.1)",
		"http://100.100.100.200/":          "(cloud metadata address 100.100.100.200)",
		"http://169.254.169.254/":          "(cloud metadata address 169.254.169.254)",
		"http://[fd00:ec2::254]/":          "(cloud metadata address fd00:ec2::254)",
		"http://[64:ff9b::a9fe:a9fe]":      "(cloud metadata address 169.254.169.254 embedded in 64:ff9b::a9fe:a9fe)",
		"http://localhost:3000/":           "(local host name localhost)",
		"http://a.b.localhost/":            "(local host name a.b.localhost)",
		"http://metadata.google.internal/": "(cloud metadata host name metadata.google.internal)",
		"gopher://127.0.0.1:6379/_":        "(loopback address 127.0.0.1)",
	}
	for u, want := range cases {
		vs := g.Check(urlParams("url", u))
		wantMsg := "Parameter 'url': URL '" + u + "' blocked by network policy " + want
		if len(vs) != 1 || vs[0].Description != wantMsg || vs[0].Field != "url" {
			t.Errorf("%s: got %q, want [%q]", u, descriptions(vs), wantMsg)
		}
	}
	for _, u := range []string{
		"http://8.8.8.8/", "http://172.32.0.1/", "http://100.128.0.1/", "http://[2001:db8::1]/",
		"http://[::8.8.8.8]/", "http://notlocalhost/", "http://localhost.example.com/", "file:///etc/passwd",
		"http://[2002:808:808::]/",
	} {
		if vs := g.Check(urlParams("url", u)); len(vs) != 0 {
			t.Errorf("%s: got %q, want none", u, descriptions(vs))
		}
	}
}

func TestAllowPrivate(t *testing.T) {
	g := mustGuard(t, Config{Default: "allow", AllowPrivate: []string{
		"10.1.0.0/16", "0x7f.1", "::1", "[fd00::5]", "*.localhost", "metadata.google.internal",
	}})
	for _, u := range []string{
		"http://10.1.2.3/", "http://127.0.0.1:8080/", "http://2130706433/", "http://[::1]/",
		"http://[fd00::5]/", "http://app.localhost/", "http://metadata.google.internal/",
		"http://[64:ff9b::a01:203]/", // embedded 10.1.2.3
	} {
		if vs := g.Check(urlParams("url", u)); len(vs) != 0 {
			t.Errorf("%s: got %q, want none", u, descriptions(vs))
		}
	}
	for _, u := range []string{"http://10.2.0.1/", "http://127.0.0.2/", "http://localhost/", "http://169.254.169.254/"} {
		if vs := g.Check(urlParams("url", u)); len(vs) != 1 {
			t.Errorf("%s: got %q, want one violation", u, descriptions(vs))
		}
	}
}

func TestLiteralAllowlistPatternExemptsBuiltinBlock(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: []string{
		"http://localhost:8080/*", "http://0x7f.2/*", "http://*/*", "https://*.localhost/*",
	}, Blocklist: []string{"*/admin*"}})
	for _, u := range []string{"http://localhost:8080/api", "http://127.0.0.2/x"} {
		if vs := g.Check(urlParams("url", u)); len(vs) != 0 {
			t.Errorf("%s: got %q, want none", u, descriptions(vs))
		}
	}
	cases := map[string]string{
		"http://localhost:9000/":      "local host name localhost",     // port not named
		"http://127.0.0.3/":           "loopback address 127.0.0.3",    // only matched by http://*/*
		"https://app.localhost/":      "local host name app.localhost", // glob, not literal
		"http://localhost:8080/admin": "matches '*/admin*'",            // the blocklist still wins
	}
	for u, want := range cases {
		vs := g.Check(urlParams("url", u))
		if len(vs) == 0 || !strings.Contains(vs[0].Description, want) {
			t.Errorf("%s: got %q, want %q first", u, descriptions(vs), want)
		}
	}
}

func TestCheckCleanReturnsNil(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}})
	if vs := g.Check(mustParams(t, `{"a": "https://api.github.com/x", "b": [1, "text"], "c": {}}`)); vs != nil {
		t.Errorf("got %v, want nil", vs)
	}
	if vs := g.Check(nil); vs != nil {
		t.Errorf("nil params: got %v", vs)
	}
}

func TestCheckTooDeep(t *testing.T) {
	g := mustGuard(t, Config{Default: "allow"})
	vs := g.Check(deepParams(tollgate.MaxDepth + 3))
	if len(vs) != 1 || !strings.Contains(vs[0].Description, "nested deeper than 100 levels was not inspected") ||
		!strings.HasPrefix(vs[0].Field, "k.k.k.") {
		t.Errorf("got %+v, want one too-deep violation", vs)
	}
	vs = g.Check(deepParams(tollgate.MaxDepth))
	if len(vs) != 1 || !strings.Contains(vs[0].Description, "loopback address") {
		t.Errorf("at MaxDepth: got %q, want the loopback violation", descriptions(vs))
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Default: "Deny"}, "default must be 'deny' or 'allow', got 'Deny'"},
		{Config{Allowlist: []string{"https://ok.com/*", ""}}, "allowlist[1]: invalid URL pattern \"\": empty pattern"},
		{Config{Blocklist: []string{"https://u@x.com/"}}, "blocklist[0]: invalid URL pattern"},
		{Config{AllowPrivate: []string{"10.0.0.0/33"}}, "allow_private[0]: \"10.0.0.0/33\" is not a CIDR"},
		{Config{AllowPrivate: []string{"ok.local", "bad host"}}, "allow_private[1]"},
		{Config{AllowPrivate: []string{"1.2.3.4.5"}}, "invalid IPv4 address"},
	}
	for _, c := range cases {
		g, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, %v; want error containing %q", c.cfg, g, err, c.want)
		}
	}
}

func TestDialControl(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx := context.Background()

	deny := mustGuard(t, Config{Default: "allow"})
	d := &net.Dialer{Control: deny.DialControl}
	_, err = d.DialContext(ctx, "tcp", ln.Addr().String())
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "loopback address 127.0.0.1") {
		t.Fatalf("dial loopback: got %v, want ErrBlocked", err)
	}

	allow := mustGuard(t, Config{Default: "allow", AllowPrivate: []string{"127.0.0.0/8"}})
	d = &net.Dialer{Control: allow.DialControl}
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with AllowPrivate: %v", err)
	}
	c.Close()

	for _, addr := range []string{"[::ffff:169.254.169.254]:80", "[fe80::1%eth0]:80", "[64:ff9b::7f00:1]:80"} {
		if err := deny.DialControl("tcp", addr, nil); !errors.Is(err, ErrBlocked) {
			t.Errorf("DialControl(%s) = %v, want ErrBlocked", addr, err)
		}
	}
	if err := deny.DialControl("tcp", "8.8.8.8:53", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	if err := deny.DialControl("unix", "/tmp/sock", nil); !errors.Is(err, ErrBlocked) {
		t.Errorf("unreadable address: got %v, want ErrBlocked (fail closed)", err)
	}
}

func TestGuardConcurrentUse(t *testing.T) {
	g := mustGuard(t, Config{Default: "deny", Allowlist: []string{"https://api.github.com/*"}})
	p := urlParams("a", "https://api.github.com/x", "b", "http://127.0.0.1/")
	done := make(chan int)
	for range 8 {
		go func() {
			n := 0
			for range 200 {
				n += len(g.Check(p))
			}
			done <- n
		}()
	}
	for range 8 {
		if n := <-done; n != 400 {
			t.Errorf("got %d violations, want 400", n)
		}
	}
}
