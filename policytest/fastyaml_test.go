package policytest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// sameTree reports where two node trees differ in what yamlx and the
// decoder read: kind, style, tag, value, line, column and children.
func sameTree(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: fast {kind %v style %v tag %q value %q at %d:%d, %d children} yaml.v3 {kind %v style %v tag %q value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFast parses data both ways; when the fast parser accepts it, yamlx
// must accept it too and build the same tree. It returns whether the fast
// parser accepted it.
func checkFast(t testing.TB, data []byte) bool {
	t.Helper()
	fast, ok := parseFastYAML(data, 1, nil)
	if !ok {
		return false
	}
	doc, err := yamlx.ParseLimited("x", data, MaxFileSize)
	if err != nil {
		t.Fatalf("fast parser accepted what yamlx refuses (%v):\n%q", err, data)
	}
	if doc.Root == nil {
		t.Fatalf("fast parser built a tree for an empty document:\n%s", data)
	}
	if err := sameTree(fast, doc.Root, ""); err != nil {
		t.Fatalf("%v\ninput:\n%s", err, data)
	}
	return true
}

func TestFastYAMLMatchesYAMLv3(t *testing.T) {
	compat, err := os.ReadFile("testdata/test_scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	accepted := []string{
		string(genScenarios(50)),
		string(compat),
		"a: b\n",
		"a: 1\nb: -5\nc: 1.5\nd: yes\ne: ~\nf: null\ng: 2024-01-01\nh: 0x1f\ni: 017\nj: 1e3\nk: .inf\n",
		"a: 'it''s'\nb: \"q\\\"\\\\\\n\\t\\r\\u00e9\"\nc: ''\nd: \"\"\n",
		"a: b # comment\n# full line\n\nc: d   \n",
		"a:\n  b:\n    c: d\n  e: [1, 2, {f: g}]\n",
		"a:\n- x\n- y\nb: z\n",
		"a:\n  - name: x\n    v: 1\n  - {name: y}\n  - [1, 2]\n  - plain\n  - \"quoted\"\n",
		"a: {}\nb: []\nc: { x: 1 , y: [ ] }\n",
		"a: http://example.com/x?y=1#frag\nb: a#b\nc: a[b]{c}\nd: x,y\n",
		"\"quoted key\": 1\n'single': 2\n",
		"é: ü\nk: \"日本語 text\"\nl: {ключ: значение}\n",
		"a: -x\nb: [-1, -y]\nc: a - b\n",
	}
	for i, s := range accepted {
		if !checkFast(t, []byte(s)) {
			t.Errorf("input %d refused:\n%s", i, s)
		}
	}
	refused := []string{
		"", "# only\n", "- a\n", "a\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  text\n", "a: >\n  text\n",
		"a: \"multi\n  line\"\n", "a: plain\n  continued\n", "a: [1,\n  2]\n", "a:\n", "a:\nb: 1\n", "? a\n: b\n",
		"<<: {a: 1}\n", "a: 1\na: 2\n", "a: {x: 1, x: 2}\n", "---\na: 1\n", "a: 1\n...\n", "%YAML 1.1\n---\na: 1\n",
		"a:\tb\n", "a: b\r\n", "a: b: c\n", "a: b:\n", "a: [a: b]\n", "a: {x}\n", "a: [1,]\n", "a: {b: 1,}\n",
		"a: {b: c # x}\n", "a: \"\\x41\"\n", "a: \"\\/\"\n", "a: \"\\ud800\"\n", "a: @x\n", "a: `x`\n", "a: [b:c]\n", "a :b\n", "a : b\n",
		"a:\n  - \n", "a:\n  -\n    b: 1\n", "a:\n  - - x\n", " a: 1\n", "a: 1\n b: 2\n", "a: \x01\n", "a: \u0085x\n",
		"a: \ufeffb\n", "a: \"x\"y\n", "a: [x]y\n", "a: \"x\"#c\n", "{a: 1}\n", "a: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n",
	}
	for _, s := range refused {
		if checkFast(t, []byte(s)) {
			t.Errorf("accepted %q", s)
		}
	}
}

func FuzzFastYAML(f *testing.F) {
	f.Add(genScenarios(5))
	f.Add([]byte("a:\n  - name: x\n    v: {a: [1, 'b', \"c\"]}\n  - plain # c\n"))
	f.Add([]byte("k: \"\\u00e9\\n\"\nl: 'it''s'\né: [-1, x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
	})
}
