package tollgate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseParamsKeepsOrderAndNumberText(t *testing.T) {
	p, err := ParseParams([]byte(`{"z": 5, "a": 5.0, "m": {"y": [1, 1e2]}, "b": null}`))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range p {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "z,a,m,b" {
		t.Errorf("order = %v", keys)
	}
	if v, _ := p.Get("z"); v != json.Number("5") {
		t.Errorf("z = %#v", v)
	}
	if v, _ := p.Get("a"); v != json.Number("5.0") {
		t.Errorf("a = %#v", v)
	}
	m, _ := p.Get("m")
	y, _ := m.(Params).Get("y")
	if y.([]any)[1] != json.Number("1e2") {
		t.Errorf("y = %#v", y)
	}
	out, _ := json.Marshal(p)
	if string(out) != `{"z":5,"a":5.0,"m":{"y":[1,1e2]},"b":null}` {
		t.Errorf("marshal = %s", out)
	}
}

func TestParseParamsRefusesAmbiguousInput(t *testing.T) {
	cases := map[string]string{
		`{"a": 1, "a": 2}`:  "duplicate key",
		`{"a": 1} {"b": 2}`: "after the value",
		`[1, 2]`:            "want a JSON object",
		`{"a": `:            "EOF",
		strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200): "nesting deeper",
	}
	for in, want := range cases {
		_, err := ParseParams([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseParams(%.30q) err = %v, want %q", in, err, want)
		}
	}
	if _, err := ParseParams([]byte(`{"a": 1, "a": 2}`)); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("duplicate key error is not ErrDuplicateKey: %v", err)
	}
}

func TestPlainAndHelpers(t *testing.T) {
	p := Params{{"a", Params{{"b", []any{Params{{"c", true}}}}}}}
	m := Plain(p).(map[string]any)
	inner := m["a"].(map[string]any)["b"].([]any)[0].(map[string]any)
	if inner["c"] != true {
		t.Errorf("Plain = %#v", m)
	}
	p.Set("d", "x")
	p.Set("a", nil)
	if v, ok := p.Get("a"); !ok || v != nil || len(p) != 2 {
		t.Errorf("Set: %#v", p)
	}
	if w := p.Without("a"); len(w) != 1 || w[0].Key != "d" || len(p) != 2 {
		t.Errorf("Without: %#v", w)
	}
}

func TestAgentHelpers(t *testing.T) {
	a := Agent{ID: "worker"}
	if a.Depth() != 0 || a.IsDelegated() || a.RootAgent() != "worker" {
		t.Errorf("direct agent: %+v", a)
	}
	a.DelegatedBy = []string{"root-agent", "middle-agent"}
	if a.Depth() != 2 || !a.IsDelegated() || a.RootAgent() != "root-agent" {
		t.Errorf("delegated agent: %+v", a)
	}
}

func TestParseEnums(t *testing.T) {
	if e, ok := ParseEffect("write"); !ok || e != EffectWrite {
		t.Error("write")
	}
	if e, ok := ParseEffect("WRITE"); ok || e != EffectUnknown {
		t.Error("WRITE must not parse")
	}
	if d, ok := ParseDecisionType("ASK"); !ok || d != Ask {
		t.Error("ASK")
	}
	if _, ok := ParseDecisionType("allow"); ok {
		t.Error("allow must not parse")
	}
	err := error(&Error{Reason: ReasonRateLimited, Message: "Rate limited"})
	if ReasonOf(err) != ReasonRateLimited || ReasonOf(errors.New("x")) != "" {
		t.Error("ReasonOf")
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{`{}`, `{"a": [1, 2.5, true, null, {"b": "c"}]}`, `{"a": 1, "a": 2}`, `{"u": "\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseParams(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		q, err := ParseParams(out)
		if err != nil || len(q) != len(p) {
			t.Fatalf("round trip: %v (%s)", err, out)
		}
	})
}
