package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The built binary behaves as the in-process runs: exit codes, stdout and
// one-line errors on stderr.
func TestExecBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tollgate")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bomb := mkfile(t, filepath.Join(t.TempDir(), "bomb.yaml"), []byte(aliasBomb))
	for _, tt := range []struct {
		name   string
		args   []string
		stdin  string
		env    string
		code   int
		stdout string // substring
		stderr string // substring of the one line; "" means stderr must be empty
	}{
		{"documented form", []string{"test-policy", "testdata/policy.yaml", "--scenarios", "testdata/test_scenarios.yaml"}, "", "", 0, "Policy Test Results: 7/7 passed", ""},
		{"tollgate 1.4.0 form", []string{"testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "-q"}, "", "", 0, "7/7 passed, 0 failed", ""},
		{"failing scenarios", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml", "-q"}, "", "", 1, "2/4 passed, 2 failed", ""},
		{"alias bomb", []string{"test-policy", "testdata/policy.yaml", "-s", bomb}, "", "", 2, "", "too many nodes"},
		{"check ask from stdin", []string{"check", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--call", "-"}, directWrite, "", 3, "decision:       ASK", ""},
		{"check deny", []string{"check", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--call", "-"}, untrustedWrite, "", 4, "decision:       DENY", ""},
		{"compat signature", []string{"manifest", "verify", "testdata/manifest.yaml", "--hmac-secret-env", "TG_TEST_SECRET"}, "", "TG_TEST_SECRET=" + compatKey, 0, "valid signature", ""},
		{"wrong secret", []string{"manifest", "verify", "testdata/manifest.yaml", "--hmac-secret-env", "TG_TEST_SECRET"}, "", "TG_TEST_SECRET=nope", 1, "", "does not verify"},
		{"unknown flag", []string{"lint", "--polcy", "x"}, "", "", 2, "", "unknown flag: --polcy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			cmd.Env = os.Environ()
			if tt.env != "" {
				cmd.Env = append(cmd.Env, tt.env)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			if tt.stderr == "" {
				if stderr.Len() != 0 {
					t.Fatalf("stderr %q", &stderr)
				}
				return
			}
			if s := stderr.String(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, "Error: ") || !strings.Contains(s, tt.stderr) {
				t.Fatalf("stderr %q, want one line with %q", s, tt.stderr)
			}
		})
	}
}
