package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// badInputs creates one file per kind of bad input and returns their paths.
func badInputs(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// 50 MB, written as text so that only the size can refuse it.
	line := []byte(strings.Repeat("# padding padding padding padding padding padding\n", 1000))
	for written := 0; written < 50<<20; written += len(line) {
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	binary := make([]byte, 4096)
	for i := range binary {
		binary[i] = byte(i * 7919 % 251)
	}
	return map[string]string{
		"missing":    filepath.Join(dir, "missing.yaml"),
		"directory":  filepath.Join(dir, "dir"),
		"empty":      mkfile(t, filepath.Join(dir, "empty.yaml"), nil),
		"binary":     mkfile(t, filepath.Join(dir, "binary.yaml"), binary),
		"50MB":       huge,
		"nested":     mkfile(t, filepath.Join(dir, "nested.yaml"), []byte(nestedYAML)),
		"alias bomb": mkfile(t, filepath.Join(dir, "bomb.yaml"), []byte(aliasBomb)),
	}
}

var (
	nestedYAML = "rules: " + strings.Repeat("[", 500) + strings.Repeat("]", 500) + "\n"
	aliasBomb  = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
rules: *i
scenarios: *i
tools: *i
`
)

// Every command, fed every kind of bad input in every file it reads, exits
// 2 with one line on stderr, quickly, without a panic.
func TestBadInputEveryCommand(t *testing.T) {
	bad := badInputs(t)
	keys := newKeys(t)
	okFiles := copyTestdata(t, "policy.yaml", "manifest.yaml", "test_scenarios.yaml")
	p, m, s := filepath.Join(okFiles, "policy.yaml"), filepath.Join(okFiles, "manifest.yaml"), filepath.Join(okFiles, "test_scenarios.yaml")
	call := mkfile(t, filepath.Join(okFiles, "call.yaml"), []byte("tool_request: {tool: \"api:fetch_data\"}\n"))
	if r := cli(t, nil, "manifest", "sign", m, "--key", keys.priv); r.code != 0 {
		t.Fatalf("signing the fixture: %+v", r)
	}

	const slot = "BAD"
	commands := [][]string{
		{"test-policy", slot, "-s", s},
		{"test-policy", p, "-s", slot},
		{"test-policy", p, "-s", s, "--manifest", slot},
		{slot, "--scenarios", s},
		{"check", "--policy", slot, "--manifest", m, "--call", call},
		{"check", "--policy", p, "--manifest", slot, "--call", call},
		{"check", "--policy", p, "--manifest", m, "--call", slot},
		{"lint", "--policy", slot},
		{"lint", "--manifest", slot},
		{"manifest", "sign", slot, "--key", keys.priv, "--out", filepath.Join(t.TempDir(), "x.sig")},
		{"manifest", "sign", m, "--key", slot, "--out", filepath.Join(t.TempDir(), "x.sig")},
		{"manifest", "verify", slot, "--pub", keys.pub},
		{"manifest", "verify", m, "--pub", slot},
		{"manifest", "verify", m, "--jwks", slot},
		{"manifest", "hash", slot},
		{"audit", "verify", slot},
	}
	for _, cmd := range commands {
		for kind, path := range bad {
			name := strings.Join(cmd, " ") + "/" + kind
			t.Run(name, func(t *testing.T) {
				args := make([]string, len(cmd))
				for i, a := range cmd {
					if a == slot {
						a = path
					}
					args[i] = a
				}
				if cmd[0] == slot && kind == "missing" {
					// Bare form with a missing policy: still exit 2.
					args[0] = path
				}
				start := time.Now()
				r := cli(t, nil, args...).want(t, 2)
				r.oneLineErr(t, "")
				if r.stdout != "" {
					t.Errorf("stdout %q", r.stdout)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("took %v", d)
				}
			})
		}
	}
}

// The signature file is read as text: unreadable, empty, binary or oversized
// is an error (2); readable text that is not the signature does not verify
// (1).
func TestBadSignatureFile(t *testing.T) {
	bad := badInputs(t)
	keys := newKeys(t)
	m := filepath.Join(copyTestdata(t, "manifest.yaml"), "manifest.yaml")
	for kind, code := range map[string]int{"missing": 2, "directory": 2, "empty": 2, "binary": 2, "50MB": 2, "nested": 1, "alias bomb": 1} {
		t.Run(kind, func(t *testing.T) {
			cli(t, nil, "manifest", "verify", m, "--sig", bad[kind], "--pub", keys.pub).want(t, code).oneLineErr(t, "")
		})
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestBadInputOnStdin(t *testing.T) {
	for name, stdin := range map[string]io.Reader{
		"empty":      strings.NewReader(""),
		"blank":      strings.NewReader(" \n\t\n"),
		"binary":     bytes.NewReader([]byte{0xff, 0xfe, 0, 1, 2}),
		"50MB":       io.LimitReader(zeros{}, 50<<20),
		"endless":    zeros{},
		"nested":     strings.NewReader(strings.Repeat("[", 500)),
		"json depth": strings.NewReader(`{"tool_request": {"params": ` + strings.Repeat(`{"a": `, 90) + "1" + strings.Repeat("}", 90) + "}}"),
		"alias bomb": strings.NewReader(aliasBomb),
		"a list":     strings.NewReader("[1, 2]"),
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			cli(t, stdin, "check", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--call", "-").want(t, 2).oneLineErr(t, "")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"lnt"}, `unknown command "lnt"`},
		{[]string{"testdata/policy.yaml"}, `required flag(s) "scenarios" not set`},
		{[]string{"test-policy", "--bogus"}, "unknown flag: --bogus (see 'tollgate test-policy --help')"},
		{[]string{"test-policy", "testdata/policy.yaml"}, `required flag(s) "scenarios" not set`},
		{[]string{"test-policy", "-s", "testdata/test_scenarios.yaml"}, "test-policy takes one argument, the policy file, got 0"},
		{[]string{"test-policy", "a", "b", "-s", "x"}, "got 2 argument(s)"},
		{[]string{"test-policy", "testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "--format", "xml"}, `--format must be one of [text json junit], got "xml"`},
		{[]string{"check", "--policy", "testdata/policy.yaml"}, `required flag(s) "call" not set`},
		{[]string{"check", "--policy", "testdata/policy.yaml", "--call", "x", "--format", "yaml"}, "--format must be one of"},
		{[]string{"check", "extra", "--policy", "p", "--call", "c"}, "check takes no arguments"},
		{[]string{"lint"}, "nothing to lint: give --policy or --manifest"},
		{[]string{"lint", "--policy", "testdata/policy.yaml", "--format", "xml"}, "--format must be one of"},
		{[]string{"keygen"}, `required flag(s) "out" not set`},
		{[]string{"keygen", "--out", ""}, "--out PREFIX must not be empty"},
		{[]string{"manifest"}, "missing subcommand: sign, verify or hash"},
		{[]string{"manifest", "sign", "testdata/manifest.yaml"}, "give exactly one of --key and --hmac-secret-env"},
		{[]string{"manifest", "sign", "testdata/manifest.yaml", "--key", "k", "--hmac-secret-env", "V"}, "give exactly one of --key and --hmac-secret-env"},
		{[]string{"manifest", "verify", "testdata/manifest.yaml"}, "give exactly one of --pub, --jwks and --hmac-secret-env"},
		{[]string{"manifest", "verify", "testdata/manifest.yaml", "--pub", "a", "--jwks", "b"}, "give exactly one of"},
		{[]string{"manifest", "hash"}, "hash takes one argument, the manifest file, got 0"},
		{[]string{"audit"}, "missing subcommand: verify"},
		{[]string{"audit", "verify"}, "verify takes one argument"},
		{[]string{"version", "x"}, "version takes no arguments"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := cli(t, nil, tt.args...).want(t, 2)
			if tt.args == nil {
				// No command: the usage goes to stderr.
				if !strings.Contains(r.stderr, "Usage:") || r.stdout != "" {
					t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
				}
				return
			}
			r.oneLineErr(t, tt.want)
		})
	}
}

// Every command documents itself with an example.
func TestHelp(t *testing.T) {
	for _, cmd := range [][]string{
		{}, {"test-policy"}, {"check"}, {"lint"}, {"keygen"}, {"manifest"}, {"manifest", "sign"},
		{"manifest", "verify"}, {"manifest", "hash"}, {"audit"}, {"audit", "verify"}, {"version"},
	} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			r := cli(t, nil, append(cmd, "--help")...).want(t, 0)
			if !strings.Contains(r.stdout, "Examples:\n") || !strings.Contains(r.stdout, "  tollgate ") || r.stderr != "" {
				t.Fatalf("help:\n%s", r.stdout)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := cli(t, nil, "version").want(t, 0)
	if !strings.HasPrefix(r.stdout, "tollgate ") || !strings.Contains(r.stdout, " go1.") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("version %q", r.stdout)
	}
}
