package main

import (
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped security_hardened example passes 7/7, in the documented form
// and in the form Tollgate 1.4.0 actually accepts, with identical output.
func TestCompatExampleBothForms(t *testing.T) {
	documented := cli(t, nil, "test-policy", "testdata/policy.yaml", "--scenarios", "testdata/test_scenarios.yaml").want(t, 0)
	bare := cli(t, nil, "testdata/policy.yaml", "--scenarios", "testdata/test_scenarios.yaml").want(t, 0)
	if !strings.Contains(documented.stdout, "Policy Test Results: 7/7 passed") || !strings.Contains(documented.stdout, "ALL PASSED") {
		t.Fatalf("stdout:\n%s", documented.stdout)
	}
	if normalise(documented.stdout) != normalise(bare.stdout) || documented.stderr != "" || bare.stderr != "" {
		t.Fatalf("forms differ:\n%s\n---\n%s", documented.stdout, bare.stdout)
	}
	for _, args := range [][]string{
		{"testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "-q"},
		{"-s", "testdata/test_scenarios.yaml", "testdata/policy.yaml", "--quiet"},
		{"testdata/policy.yaml", "--scenarios=testdata/test_scenarios.yaml", "-q"},
		{"test-policy", "testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "-q", "--strict"},
		{"test-policy", "testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "-q", "--manifest", "testdata/manifest.yaml"},
	} {
		r := cli(t, nil, args...).want(t, 0)
		if r.stdout != "\n7/7 passed, 0 failed\n" {
			t.Errorf("%q: stdout %q", args, r.stdout)
		}
	}
}

func TestTestPolicyGolden(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"compat.text", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml"}, 0},
		{"compat.json", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "--format", "json"}, 0},
		{"compat.junit", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "--format", "junit"}, 0},
		{"failing.text", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml"}, 1},
		{"failing.quiet", []string{"testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml", "-q"}, 1},
		{"failing.json", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml", "--format", "json"}, 1},
		{"failing.junit", []string{"test-policy", "testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml", "--format", "junit"}, 1},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			r := cli(t, nil, tt.args...).want(t, tt.code)
			if r.stderr != "" {
				t.Fatalf("stderr %q", r.stderr)
			}
			golden(t, tt.golden, normalise(r.stdout))
		})
	}
}

// The machine formats parse, and say the same as the text.
func TestTestPolicyMachineFormats(t *testing.T) {
	r := cli(t, nil, "test-policy", "testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml", "--format", "json").want(t, 1)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var summary struct {
		Type                  string
		Total, Passed, Failed int
		AllPassed             bool `json:"all_passed"`
	}
	for i, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Type != "summary" || summary.Total != len(lines)-1 || summary.Failed == 0 || summary.AllPassed {
		t.Fatalf("summary %+v", summary)
	}

	r = cli(t, nil, "test-policy", "testdata/policy.yaml", "-s", "testdata/failing_scenarios.yaml", "--format", "junit").want(t, 1)
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != summary.Total || suites.Failures != summary.Failed {
		t.Fatalf("junit %+v, json %+v", suites, summary)
	}
}

// --manifest replaces what a scenario claims with the manifest's trusted
// metadata; --strict refuses what Tollgate let through.
func TestTestPolicyManifestAndStrict(t *testing.T) {
	dir := t.TempDir()
	// Claims effect read for a write tool: passes on its own claim, fails
	// once the manifest says what the tool really does.
	s := mkfile(t, filepath.Join(dir, "s.yaml"), []byte(`scenarios:
  - name: "claims read"
    tool_request: {tool: "api:write_file", effect: read, manifest_version: "1.0.0"}
    expected: {decision: ALLOW, policy_id: allow_reads}
`))
	cli(t, nil, "test-policy", "testdata/policy.yaml", "-s", s, "-q").want(t, 0)
	r := cli(t, nil, "test-policy", "testdata/policy.yaml", "-s", s, "-q", "--manifest", "testdata/manifest.yaml").want(t, 1)
	if !strings.Contains(r.stdout, "Decision: expected 'ALLOW', got 'ASK'") {
		t.Fatalf("stdout %q", r.stdout)
	}

	typo := mkfile(t, filepath.Join(dir, "typo.yaml"), []byte("scenarios:\n  - tool_requets: {tool: x}\n    expected: {decision: DENY}\n"))
	cli(t, nil, "test-policy", "testdata/policy.yaml", "-s", typo).want(t, 0)
	cli(t, nil, "test-policy", "testdata/policy.yaml", "-s", typo, "--strict").want(t, 2).oneLineErr(t, typo+`:2:5: Scenario 'Scenario 0': unknown key "tool_requets"`)
}

// Configuration errors: Tollgate's messages, exit 2, one line.
func TestTestPolicyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	noExpected := mkfile(t, filepath.Join(dir, "a.yaml"), []byte("scenarios:\n  - name: x\n"))
	badDecision := mkfile(t, filepath.Join(dir, "b.yaml"), []byte("scenarios:\n  - name: x\n    expected: {decision: MAYBE}\n"))
	syntax := mkfile(t, filepath.Join(dir, "c.yaml"), []byte("scenarios:\n  - name: \"x\n"))
	badPolicy := mkfile(t, filepath.Join(dir, "p.yaml"), []byte("rules:\n  - effect: read\n"))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"testdata/policy.yaml", "-s", filepath.Join(dir, "missing.yaml")}, "Scenarios file not found: " + filepath.Join(dir, "missing.yaml")},
		{[]string{"testdata/policy.yaml", "-s", noExpected}, noExpected + ":2:5: Scenario 'x' is missing 'expected' key"},
		{[]string{"testdata/policy.yaml", "-s", badDecision}, "Scenario 'x' has invalid expected decision: 'MAYBE'"},
		{[]string{"testdata/policy.yaml", "-s", syntax}, syntax + ":2: YAML syntax error"},
		{[]string{badPolicy, "-s", "testdata/test_scenarios.yaml"}, badPolicy + ":2:5:"},
		{[]string{"testdata/policy.yaml", "-s", "testdata/test_scenarios.yaml", "--manifest", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	} {
		args := append([]string{"test-policy"}, tt.args...)
		cli(t, nil, args...).want(t, 2).oneLineErr(t, tt.want)
	}
}
