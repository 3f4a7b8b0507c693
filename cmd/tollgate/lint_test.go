package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLintCompatExampleIsClean(t *testing.T) {
	r := cli(t, nil, "lint", "--policy", "testdata/policy.yaml", "--manifest", "testdata/manifest.yaml", "--strict").want(t, 0)
	if r.stdout != "OK: no problems in 2 file(s)\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
}

func TestLintFindings(t *testing.T) {
	args := []string{"lint", "--policy", "testdata/lint_policy.yaml", "--manifest", "testdata/manifest.yaml"}
	r := cli(t, nil, args...).want(t, 0)
	golden(t, "lint.text", r.stdout)
	cli(t, nil, append(args, "--strict")...).want(t, 1)
	r = cli(t, nil, append(args, "--format", "json")...).want(t, 0)
	golden(t, "lint.json", r.stdout)

	var out struct {
		Findings []finding
		Warnings int
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, f := range out.Findings {
		got[f.Check] = append(got[f.Check], f.Line)
	}
	want := map[string][]int{
		"shadowed":         {6},  // allow_github_reads after allow_reads
		"allow-downgraded": {10}, // api:legacy is in no manifest
		"never-matches":    {13, 16, 20},
		"when-param":       {27}, // path is a parameter of api:write_file; risk_score is not
		"policy":           {33}, // duplicate id, from the policy loader
	}
	for check, lines := range want {
		if !slices.Equal(got[check], lines) {
			t.Errorf("%s at lines %v, want %v", check, got[check], lines)
		}
	}
	if out.Warnings != len(out.Findings) || len(out.Findings) != 7 {
		t.Errorf("%d findings, %d warnings", len(out.Findings), out.Warnings)
	}

	// Without a manifest only the manifest-free checks run.
	r = cli(t, nil, "lint", "--policy", "testdata/lint_policy.yaml").want(t, 0)
	if !strings.Contains(r.stdout, "[shadowed]") || strings.Contains(r.stdout, "[never-matches]") || !strings.HasSuffix(r.stdout, "0 error(s), 2 warning(s)\n") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
}

func TestLintLoadErrors(t *testing.T) {
	dir := t.TempDir()
	p := mkfile(t, filepath.Join(dir, "p.yaml"), []byte("rules:\n  - {effect: read, decision: MAYBE}\n  - {efect: write, decision: DENY}\n"))
	m := mkfile(t, filepath.Join(dir, "m.yaml"), []byte("tools:\n  x: {effect: READ}\n"))
	r := cli(t, nil, "lint", "--policy", p, "--manifest", m).want(t, 1)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], m+":2:") || !strings.HasPrefix(lines[1], p+":2:") ||
		!strings.HasPrefix(lines[2], p+":3:") || !strings.Contains(lines[0], ": error: ") || lines[3] != "3 error(s), 0 warning(s)" {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	for _, l := range lines[:3] {
		if !strings.HasSuffix(l, "[load]") {
			t.Errorf("line %q", l)
		}
	}
}
