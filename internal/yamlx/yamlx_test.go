package yamlx

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func TestResolveFollowsPyYAML(t *testing.T) {
	cases := map[string]any{
		"yes": true, "Yes": true, "YES": true, "no": false, "on": true, "OFF": false, "True": true,
		"y": "y", "n": "n", "oFF": "oFF",
		"017": json.Number("15"), "0x1f": json.Number("31"), "0o17": "0o17", "1_000": json.Number("1000"),
		"1:30": json.Number("90"), "1.10": json.Number("1.1"), "1e3": "1e3", "1.0e3": "1.0e3",
		"1.0e+3": json.Number("1000.0"), ".inf": json.Number("Infinity"), "-.inf": json.Number("-Infinity"),
		"~": nil, "null": nil, "": nil, "2024-01-01": "2024-01-01", "-5": json.Number("-5"), "0": json.Number("0"),
		"12345678901234567890": json.Number("12345678901234567890"),
	}
	for in, want := range cases {
		if got := Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func TestValueKeepsOrderAndQuotedStrings(t *testing.T) {
	doc, err := Parse("t.yaml", []byte("b: 'yes'\na: yes\nc: [1, 2.0, \"3\"]\nd: &x {k: v}\ne: *x\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := doc.Value(doc.Root)
	if err != nil {
		t.Fatal(err)
	}
	p := v.(tollgate.Params)
	if p[0].Key != "b" || p[0].Value != "yes" || p[1].Value != true {
		t.Errorf("got %#v", p)
	}
	c, _ := p.Get("c")
	if got := c.([]any); got[0] != json.Number("1") || got[1] != json.Number("2.0") || got[2] != "3" {
		t.Errorf("c = %#v", got)
	}
	e, _ := p.Get("e")
	if k, _ := e.(tollgate.Params).Get("k"); k != "v" {
		t.Errorf("alias not resolved: %#v", e)
	}
}

func TestParseRefusesHostileInput(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	cases := map[string]struct {
		data string
		want string
	}{
		"duplicate key": {"a: 1\nb: 2\na: 3\n", `t.yaml:3:1: duplicate key "a"`},
		"syntax":        {"a: [1, 2\nb: 3\n", "t.yaml:"},
		"binary":        {"\x00\x01\x02", "binary"},
		"not utf-8":     {"a: \xff\xfe", "not UTF-8"},
		"deep":          {strings.Repeat("[", 200) + strings.Repeat("]", 200), "nesting deeper"},
		"alias bomb":    {bomb, "alias bomb"},
		"merge key":     {"a: &a {x: 1}\nb:\n  <<: *a\n", "merge keys"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestErrorfNamesPosition(t *testing.T) {
	doc, err := Parse("p.yaml", []byte("rules:\n  - tool: x\n    efect: read\n"))
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := doc.Mapping(doc.Root, "the file")
	if err != nil {
		t.Fatal(err)
	}
	items, err := doc.Sequence(pairs[0].ValueNode, "rules")
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := doc.Mapping(items[0], "rule 0")
	e := doc.Errorf(rule[1].KeyNode, "unknown key %q", rule[1].Key)
	var ye *Error
	if !errors.As(e, &ye) || e.Error() != `p.yaml:3:5: unknown key "efect"` {
		t.Fatalf("got %v", e)
	}
	if _, err := doc.Sequence(rule[0].ValueNode, "tool"); err == nil || !strings.Contains(err.Error(), `p.yaml:2:11: tool must be a list, got "x"`) {
		t.Fatalf("got %v", err)
	}
}

func TestReadLimited(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLimited(big, 10); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("size limit: %v", err)
	}
	if _, err := ReadLimited(dir, 10); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadLimited(filepath.Join(dir, "missing"), 10); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: 1", "rules:\n  - decision: ALLOW\n", "a: &a [*a]", "- [1, {b: yes}]", "x: !!binary aGk="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse("fuzz.yaml", data)
		if err != nil || doc.Root == nil {
			return
		}
		_, _ = doc.Value(doc.Root)
	})
}
