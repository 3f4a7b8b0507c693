package netguard

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestGlobMatchesPythonFnmatch replays 2000 verdicts of CPython's
// fnmatch.fnmatchcase (testdata/gen_fnmatch.py) against the glob engine:
// classes, ranges, negation, unmatched '[', '*' crossing '/', code points.
func TestGlobMatchesPythonFnmatch(t *testing.T) {
	data, err := os.ReadFile("testdata/fnmatch_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][3]any
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 1000 {
		t.Fatalf("golden file has %d cases, want 2000", len(cases))
	}
	for _, c := range cases {
		pat, s, want := c[0].(string), c[1].(string), c[2].(bool)
		if got := compileGlob(pat, false).match(s); got != want {
			t.Errorf("fnmatch(%q, %q) = %v, Python says %v", s, pat, got, want)
		}
	}
}

func TestGlobFold(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"API.GitHub.com", "api.github.com", true},
		{"*.EXAMPLE.com", "a.example.com", true},
		{"[A-Z]x", "ax", true}, // ranges keep their text; letters match either case
		{"[!A-Z]x", "ax", false},
		{"[Z-a]", "b", false}, // Z-a is Z [ \ ] ^ _ ` a: neither b nor B
		{"[Z-a]", "z", true},  // z matches through its upper-case form Z
		{"h?st", "host", true},
	}
	for _, c := range cases {
		if got := compileGlob(c.pat, true).match(c.s); got != c.want {
			t.Errorf("fold %q on %q = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}

func TestGlobShapes(t *testing.T) {
	cases := []struct {
		pat   string
		shape globShape
	}{
		{"abc", globExact}, {"*", globAny}, {"**", globAny}, {"/*", globPrefix},
		{"*.example.com", globSuffix}, {"*.internal.*", globContains}, {"*a*b", globGeneral}, {"**a**", globContains}, {"a?", globGeneral}, {"[ab]", globGeneral},
		{"[ab", globExact}, // unmatched '[' is a literal
	}
	for _, c := range cases {
		if got := compileGlob(c.pat, false).shape; got != c.shape {
			t.Errorf("shape(%q) = %d, want %d", c.pat, got, c.shape)
		}
	}
}

func TestGlobWorstCaseIsBounded(t *testing.T) {
	g := compileGlob(strings.Repeat("*a", 20)+"b", false)
	if g.match(strings.Repeat("a", 100_000)) {
		t.Fatal("matched a string without 'b'")
	}
}
