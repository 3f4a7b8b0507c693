package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate/tower"
)

// --policy and --manifest replace the built-in files: a broken one stops
// the server from starting, naming the file and line.
func TestServeConfigOverrides(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(broken, []byte("version: \"x\"\nrules:\n  - id: r\n    decision: MAYBE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := options{addr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", auditPath: filepath.Join(dir, "audit.jsonl"), policyPath: broken}
	err := run(context.Background(), o)
	var le *tower.LoadError
	if !errors.As(err, &le) || le.File != broken || le.Line != 4 {
		t.Errorf("--policy broken: %v, want a load error at %s:4", err, broken)
	}
	o.policyPath, o.manifestPath = "", filepath.Join(dir, "missing.yaml")
	if err := run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("--manifest missing: %v", err)
	}
}
