package tower

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

// summarizeWhole is how summaries were made before rendering was bounded:
// render everything, then cut. The bounded summary must match it for
// every result that is not a proto message.
func summarizeWhole(result any) string {
	var s string
	switch r := result.(type) {
	case nil:
		return ""
	case string:
		s = r
	case []byte:
		s = string(r)
	case fmt.Stringer:
		s = r.String()
	case error:
		s = r.Error()
	default:
		b, err := json.Marshal(r)
		if err != nil {
			s = fmt.Sprint(r)
		} else {
			s = string(b)
		}
	}
	if utf8.RuneCountInString(s) <= summaryLimit {
		return s
	}
	n := 0
	for i := range s {
		if n == summaryLimit {
			return s[:i] + "..."
		}
		n++
	}
	return s
}

type plain struct {
	Name    string            `json:"name"`
	Count   int               `json:"count,omitempty"`
	Skip    string            `json:"-"`
	Dash    string            `json:"-,"`
	Ratio   float64           `json:"ratio"`
	Small   float32           `json:"small"`
	Tags    []string          `json:"tags"`
	Blob    []byte            `json:"blob,omitempty"`
	Attrs   map[string]any    `json:"attrs"`
	Nested  *plain            `json:"nested,omitempty"`
	When    time.Time         `json:"when"`
	Addr    netip.Addr        `json:"addr"` // a TextMarshaler
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Num     json.Number       `json:"num,omitempty"`
	Any     any               `json:"any"`
	Arr     [3]uint8          `json:"arr"`
	IntKeys map[int]string    `json:"int_keys,omitempty"`
	Bad     string            `json:"bad\"name"`
	HTML    string            `json:"<b>&"`
	Params  tollgate.Params   `json:"params,omitempty"`
	Strs    map[string]string `json:",omitempty"`
	hidden  string
}

type embeds struct {
	plain
	Extra string `json:"extra"`
}

type quoted struct {
	N int `json:"n,string"`
}

type zeroer struct {
	T time.Time `json:"t,omitzero"`
}

type ptrMarshaler struct{ V string }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return json.Marshal("ptr:" + p.V) }

type holder struct {
	M ptrMarshaler `json:"m"`
}

type stringer struct{}

func (stringer) String() string { return strings.Repeat("s", 300) }

type cycle struct {
	Next *cycle `json:"next"`
}

func summaryCases() map[string]any {
	long := strings.Repeat("ab<é>\u2028\x01", 400)
	p := plain{
		Name: "report \"q3\" <draft> & co\n\t\b\f\r\x7f\x00", Ratio: 1e21, Small: 1e-7, Tags: []string{"a", "b"},
		Blob: []byte("hello\x00world"), Attrs: map[string]any{"z": 1.5, "a": []any{nil, true, "x"}, "m": map[string]any{}},
		When: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Addr: netip.MustParseAddr("10.0.0.1"),
		Raw: json.RawMessage(`{ "spaced" : [1, 2] }`), Num: "12.50", Any: uint16(7), Arr: [3]uint8{1, 2, 3},
		IntKeys: map[int]string{2: "b", 10: "a"}, Bad: "x", HTML: "y", Params: tollgate.Params{{Key: "k", Value: "v"}},
		Strs: map[string]string{"\xff": "invalid", "é": "ok"}, hidden: "no",
	}
	cyc := &cycle{}
	cyc.Next = cyc
	return map[string]any{
		"empty string":     "",
		"short string":     "ok",
		"long string":      long,
		"invalid utf8":     strings.Repeat("\xff\xfe", 300),
		"bytes":            []byte("bytes result"),
		"long bytes":       []byte(long),
		"error":            errors.New("x"),
		"stringer":         stringer{},
		"small map":        map[string]int{"a": 1},
		"struct":           p,
		"struct pointer":   &p,
		"nested":           &plain{Nested: &p},
		"embedded":         embeds{plain: p, Extra: "e"},
		"string option":    quoted{N: 5},
		"omitzero":         zeroer{},
		"addressable ptr":  &holder{M: ptrMarshaler{V: "a"}},
		"value ptr":        holder{M: ptrMarshaler{V: "v"}},
		"long slice":       make([]int, 5000),
		"long map":         map[string]string{"b": long, "a": long},
		"nil slice":        []int(nil),
		"nil map":          map[string]int(nil),
		"nil pointer":      (*plain)(nil),
		"floats":           []float64{0, -0.0, 1e-7, 123456789, 1e20, 1e21, 0.000001, math.MaxFloat64},
		"float32":          []float32{1e-7, 3.4e38, 0.1},
		"ints":             []any{int8(-1), uint64(math.MaxUint64), 42},
		"NaN":              math.NaN(),
		"NaN far":          []any{strings.Repeat("x", 2000), math.Inf(1)},
		"func":             func() {},
		"cycle":            cyc,
		"byte array":       [4]byte{1, 2, 3, 4},
		"big bytes inside": map[string][]byte{"data": make([]byte, 1<<16)},
	}
}

func TestSummaryMatchesWholeRendering(t *testing.T) {
	for name, v := range summaryCases() {
		if name == "NaN far" || name == "cycle" {
			continue // differ by design: see TestSummaryStopsBeforeFarErrors
		}
		if got, want := summarize(v), summarizeWhole(v); got != want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
}

// A value json.Marshal refuses past the cut is never reached: the summary
// is the JSON so far, where rendering the whole result fell back to fmt.
func TestSummaryStopsBeforeFarErrors(t *testing.T) {
	v := []any{strings.Repeat("x", 2000), math.Inf(1)}
	if got := summarize(v); got != `["`+strings.Repeat("x", summaryLimit-2)+"..." {
		t.Errorf("summary = %q", got)
	}
	// A pointer cycle shows its first levels.
	c := &cycle{}
	c.Next = c
	if got := summarize(c); !strings.HasPrefix(got, `{"next":{"next":`) || !strings.HasSuffix(got, "...") {
		t.Errorf("summary of a cycle = %q", got)
	}
}

func TestSummaryOfProtoMessages(t *testing.T) {
	st, err := structpb.NewStruct(map[string]any{"b": []any{"x", true}, "a": 1, "n": nil})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		msg  any
		want string
	}{
		{&testv1.FetchResponse{Status: 200, Body: "ok \"quoted\"\n"}, `status:200 body:"ok \"quoted\"\n"`},
		{&testv1.FetchResponse{}, ``},
		{(*testv1.FetchResponse)(nil), ``},
		{&testv1.UploadChunk{Name: "n", Data: []byte{0, 'a'}}, `name:"n" data:"\x00a"`},
		{st, `fields:{key:"a" value:{number_value:1}} fields:{key:"b" value:{list_value:{values:{string_value:"x"} values:{bool_value:true}}}} fields:{key:"n" value:{null_value:NULL_VALUE}}`},
		{&descriptorpb.FieldDescriptorProto{Name: new("f"), Number: new(int32(-3)), Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()},
			`name:"f" number:-3 label:LABEL_REPEATED`},
	} {
		if got := summarize(tt.msg); got != tt.want {
			t.Errorf("summary of %T:\n got %s\nwant %s", tt.msg, got, tt.want)
		}
	}
	big := &testv1.UploadChunk{Name: "big", Data: make([]byte, 1<<20)}
	got := summarize(big)
	if utf8.RuneCountInString(got) != summaryLimit+3 || !strings.HasPrefix(got, `name:"big" data:"\x00`) || !strings.HasSuffix(got, "...") {
		t.Errorf("summary of a 1 MiB message = %q", got)
	}
}

// A summary costs one allocation, its text, however large the result.
func TestSummaryAllocatesOnlyItsText(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for name, v := range map[string]any{
		"proto":  &testv1.FetchResponse{Status: 200, Body: strings.Repeat("x", 1<<20)},
		"struct": struct{ S string }{strings.Repeat("x", 1<<20)},
		"bytes":  make([]byte, 1<<20),
	} {
		if n := testing.AllocsPerRun(50, func() { summarize(v) }); n > 1 {
			t.Errorf("%s: %v allocations, want 1", name, n)
		}
	}
}

// FuzzSummaryString checks the bounded JSON string encoding against
// encoding/json's, in keys and values, short and long.
func FuzzSummaryString(f *testing.F) {
	for _, s := range []string{"", "a", "<&>", "\u2028\u2029", "\xff", "é\x00\x1f\"\\", strings.Repeat("\xe2\x82", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{
			map[string]any{s: s},
			[]string{s, strings.Repeat(s, 50)},
			struct {
				S string `json:"s"`
				B []byte `json:"b"`
			}{s, []byte(s)},
		} {
			if got, want := summarize(v), summarizeWhole(v); got != want {
				t.Fatalf("summary of %#v:\n got %q\nwant %q", v, got, want)
			}
		}
	})
}
