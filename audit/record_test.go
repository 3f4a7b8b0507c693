package audit

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Config records and a call's shadow key are chain lines like any other:
// the chain verifies, each line matches the published schema, and Read
// gives back what was written.
func TestConfigAndShadowRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	call := testEvent(1)
	call.Shadow = &Shadow{Decision: "DENY", Reason: "No matching rule."}
	loaded := &Event{Kind: KindConfigLoaded, Timestamp: testTime, Config: &ConfigChange{Files: []ConfigFile{
		{Role: "policy", Path: "/etc/tollgate/policy.yaml", SHA256: strings.Repeat("ab", 32)},
		{Role: "manifest", Path: "/etc/tollgate/manifest.yaml", SHA256: strings.Repeat("cd", 32)},
	}}}
	rejected := &Event{Kind: KindConfigRejected, Timestamp: testTime, Config: &ConfigChange{
		File: "/etc/tollgate/policy.yaml", Line: 7, Reason: "policy.yaml:7:3: rules: want a list"}}
	for _, e := range []*Event{call, loaded, rejected, testEvent(2)} {
		if err := s.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyFile(path); err != nil || n != 4 {
		t.Fatalf("VerifyFile = %d, %v", n, err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	valid := publishedSchema(t)
	for i, l := range lines {
		if err := valid(l); err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, l)
		}
	}
	if !strings.Contains(lines[0], `"manifest_version": "1.0.0", "shadow": {"decision": "DENY", "rule": null, "reason": "No matching rule."}, "seq": 1`) {
		t.Errorf("shadow key not after the optional keys:\n%s", lines[0])
	}
	want := `{"schema_version": "1.0", "kind": "config_rejected", "timestamp": "2026-02-05T03:31:26.550942+00:00", "config": {"file": "/etc/tollgate/policy.yaml", "line": 7, "reason": "policy.yaml:7:3: rules: want a list"}, "seq": 3`
	if !strings.HasPrefix(lines[2], want) {
		t.Errorf("config_rejected line\n got %s\nwant %s…", lines[2], want)
	}
	if strings.Contains(lines[3], `"shadow"`) {
		t.Errorf("a record without a shadow decision has a shadow key:\n%s", lines[3])
	}
	for name, l := range map[string]string{
		"config record with a call key": strings.Replace(lines[1], `"config": {`, `"outcome": "executed", "config": {`, 1),
		"rejection without a reason":    strings.Replace(lines[2], `, "reason": "policy.yaml:7:3: rules: want a list"`, ``, 1),
		"loaded file with a bad digest": strings.Replace(lines[1], strings.Repeat("ab", 32), "ab", 1),
		"shadow with an unknown type":   strings.Replace(lines[0], `"shadow": {"decision": "DENY"`, `"shadow": {"decision": "MAYBE"`, 1),
		"call record with a config":     strings.Replace(lines[3], `"outcome": `, `"config": {}, "outcome": `, 1),
	} {
		if valid(l) == nil {
			t.Errorf("%s passes the schema", name)
		}
	}

	var got []Event
	f, _ := os.Open(path)
	defer f.Close()
	if err := Read(f, func(r *Record) error { got = append(got, r.Event); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[0].Shadow, call.Shadow) || got[3].Shadow != nil {
		t.Errorf("Read shadow = %+v, %+v", got[0].Shadow, got[3].Shadow)
	}
	for i, e := range []*Event{loaded, rejected} {
		if r := got[i+1]; r.Kind != e.Kind || !reflect.DeepEqual(r.Config, e.Config) {
			t.Errorf("Read line %d = %s %+v, want %s %+v", i+2, r.Kind, r.Config, e.Kind, e.Config)
		}
	}
}

// A candidate's reason and a rejection's error are bounded like every
// other string of a record.
func TestShadowAndConfigStringsAreBounded(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	call := testEvent(1)
	call.Shadow = &Shadow{Decision: "ASK", Rule: "r", Reason: long}
	rej := &Event{Kind: KindConfigRejected, Timestamp: testTime, Config: &ConfigChange{File: "p.yaml", Reason: long}}
	for _, e := range []*Event{call, rej} {
		line := string(appendRecord(nil, e, nil, minMaxValueSize))
		if strings.Contains(line, long[:minMaxValueSize]) || !strings.Contains(line, "TRUNCATED") {
			t.Errorf("%q not bounded: %d bytes", e.Kind, len(line))
		}
	}
	if call.Shadow.Reason != long || rej.Config.Reason != long {
		t.Error("bounding changed the caller's event")
	}
}
