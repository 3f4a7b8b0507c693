package pycompat

import (
	"encoding/json"
	"testing"

	"github.com/tollgate-go/tollgate"
)

func n(s string) json.Number { return json.Number(s) }

func TestFormatFloatMatchesPythonRepr(t *testing.T) {
	cases := map[float64]string{
		1: "1.0", 100: "100.0", 1e16: "1e+16", 1.5e20: "1.5e+20", 0.00001: "1e-05",
		0.0001: "0.0001", 2.5: "2.5", -0.5: "-0.5", 1e15: "1000000000000000.0", 0.1: "0.1",
		123456789.125: "123456789.125", 1e-7: "1e-07", 1e100: "1e+100",
	}
	for f, want := range cases {
		if got := FormatFloat(f); got != want {
			t.Errorf("FormatFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestFormatNumberKeepsIntFloatDistinction(t *testing.T) {
	cases := map[string]string{"5": "5", "5.0": "5.0", "1e2": "100.0", "-0": "0", "123456789012345678901234567890": "123456789012345678901234567890"}
	for in, want := range cases {
		if got := FormatNumber(n(in)); got != want {
			t.Errorf("FormatNumber(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalMatchesPythonJSONDumps(t *testing.T) {
	// The golden vector of Tollgate's spec §12.1.
	p, err := tollgate.ParseParams([]byte(`{"z": 1.0, "a": [1, 2.5, true, null], "u": "ü€😀", "n": {"b": 2, "a": 1e16}, "f": 0.00001}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a": [1, 2.5, true, null], "f": 1e-05, "n": {"a": 1e+16, "b": 2}, "u": "\u00fc\u20ac\ud83d\ude00", "z": 1.0}`
	if got := string(Canonical.AppendJSON(nil, p)); got != want {
		t.Errorf("canonical:\n got %s\nwant %s", got, want)
	}
	if got := string(Log.AppendJSON(nil, tollgate.Params{{Key: "u", Value: "ü"}, {Key: "a", Value: "x\"\n\x01"}})); got != `{"u": "ü", "a": "x\"\n\u0001"}` {
		t.Errorf("log style: %s", got)
	}
}

func TestDELAndInvalidUTF8(t *testing.T) {
	if got := string(Canonical.AppendString(nil, "a\x7fb")); got != `"a\u007fb"` {
		t.Errorf("canonical DEL: %s", got)
	}
	if got := string(Log.AppendString(nil, "a\x7fb")); got != "\"a\x7fb\"" {
		t.Errorf("log DEL: %q", got)
	}
	if got := string(Log.AppendString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("log invalid UTF-8: %q", got)
	}
}

func TestEqualIsPythonEquality(t *testing.T) {
	eq := [][2]any{
		{n("1"), n("1.0")}, {true, n("1")}, {false, n("0")}, {nil, nil}, {"a", "a"},
		{[]any{n("1"), "x"}, []any{n("1.0"), "x"}},
		{tollgate.Params{{Key: "a", Value: n("1")}, {Key: "b", Value: "x"}}, tollgate.Params{{Key: "b", Value: "x"}, {Key: "a", Value: true}}},
		{n("9007199254740993"), n("9007199254740993")},
	}
	for _, c := range eq {
		if !Equal(c[0], c[1]) {
			t.Errorf("Equal(%v, %v) = false, want true", c[0], c[1])
		}
	}
	ne := [][2]any{
		{"1", n("1")}, {nil, false}, {n("1.5"), n("1")}, {[]any{n("1")}, []any{}}, {"a", "b"},
		{n("9007199254740993"), n("9007199254740992.0")}, {n("NaN"), n("NaN")},
	}
	for _, c := range ne {
		if Equal(c[0], c[1]) {
			t.Errorf("Equal(%v, %v) = true, want false", c[0], c[1])
		}
	}
}

func TestCompareRefusesIncompatibleTypes(t *testing.T) {
	if c, ok := Compare(n("0.9"), n("0.8")); !ok || c <= 0 {
		t.Errorf("0.9 vs 0.8: %d %v", c, ok)
	}
	if c, ok := Compare(n("2"), n("2.5")); !ok || c >= 0 {
		t.Errorf("2 vs 2.5: %d %v", c, ok)
	}
	if c, ok := Compare("abc", "abd"); !ok || c >= 0 {
		t.Errorf("strings: %d %v", c, ok)
	}
	if c, ok := Compare([]any{n("1"), n("2")}, []any{n("1")}); !ok || c <= 0 {
		t.Errorf("lists: %d %v", c, ok)
	}
	for _, c := range [][2]any{{"1", n("1")}, {nil, n("1")}, {tollgate.Params{}, tollgate.Params{}}, {n("NaN"), n("1")}} {
		if _, ok := Compare(c[0], c[1]); ok {
			t.Errorf("Compare(%v, %v) should be refused", c[0], c[1])
		}
	}
}

func TestReprMatchesPython(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{"deleted", "'deleted'"}, {"it's", `"it's"`}, {`a'b"c`, `'a\'b"c'`}, {true, "True"}, {nil, "None"},
		{n("1e2"), "100.0"}, {[]any{"active", "inactive"}, "['active', 'inactive']"},
		{tollgate.Params{{Key: "k", Value: n("1")}}, "{'k': 1}"}, {"tab\there\x00", `'tab\there\x00'`}, {"ü", "'ü'"},
	}
	for _, c := range cases {
		if got := Repr(c.v); got != c.want {
			t.Errorf("Repr(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

func BenchmarkCanonical(b *testing.B) {
	p := tollgate.Params{{Key: "path", Value: "/safe/a.txt"}, {Key: "count", Value: n("3")}, {Key: "ok", Value: true}}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = Canonical.AppendJSON(buf[:0], p)
	}
}
