package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// emitOne writes e to a fresh fake sink and returns the line and the
// Verify result.
func emitOne(t *testing.T, e *Event, opts ...Option) string {
	t.Helper()
	cfg := defaultFileConfig()
	for _, o := range opts {
		o.applyFile(&cfg)
	}
	f := &fakeFile{}
	s := startFileSink(newWriter(f, 0, link{hash: GenesisHash}, DurabilityOS), cfg, ticks{})
	if err := s.Emit(ctx, e); err != nil {
		t.Fatalf("Emit: %v", err)
	}
	s.Close()
	if n, err := Verify(bytes.NewReader(f.bytes())); n != 1 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	return string(f.bytes())
}

func marker(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("… [TRUNCATED: %d bytes, sha256:%s]", len(s), hex.EncodeToString(sum[:]))
}

// Issue 9 item 6: a 3 MiB control-character param (18 MiB as JSON) is
// recorded as its prefix, length and hash; the request hash is kept.
func TestBoundControlCharacterParam(t *testing.T) {
	value := strings.Repeat("\x01", 3<<20)
	e := testEvent(1)
	e.ToolRequest.Params = tollgate.Params{{Key: "blob", Value: value}, {Key: "small", Value: "kept"}}
	e.Outcome, e.Stage, e.ReasonCode = tollgate.OutcomeBlocked, tollgate.StageSchema, "SCHEMA_INVALID"
	line := emitOne(t, e)
	if len(line) > 2*DefaultMaxValueSize {
		t.Fatalf("line of %d bytes", len(line))
	}
	want := `"blob": "` + strings.Repeat(`\u0001`, truncatedPrefix) + marker(value) + `", "small": "kept"`
	if !strings.Contains(line, want) {
		t.Errorf("line does not hold %s:\n%s", want, line)
	}
	if !strings.Contains(line, `"request_hash": "`+e.RequestHash+`"`) {
		t.Error("request hash changed")
	}
	if v, _ := e.ToolRequest.Params.Get("blob"); v != value {
		t.Error("the caller's params were changed")
	}
}

// 33 MiB of small params cannot be cut value by value: the params object is
// replaced by what it held, and the refusal still has its record.
func TestBoundManySmallParams(t *testing.T) {
	p := make(tollgate.Params, 0, 34<<10)
	for i := range 34 << 10 {
		p = append(p, tollgate.Field{Key: fmt.Sprintf("k%d", i), Value: strings.Repeat("v", 1000)})
	}
	e := testEvent(1)
	e.ToolRequest.Params = p
	e.Intent.Metadata = tollgate.Params{{Key: "ticket", Value: "OPS-1"}}
	line := emitOne(t, e)
	if len(line) > 1<<20 {
		t.Fatalf("line of %d bytes", len(line))
	}
	size := len(pycompat.Log.AppendJSON(nil, p))
	if want := fmt.Sprintf(`"params": {"[TRUNCATED]": "%d keys, %d bytes"}`, len(p), size); !strings.Contains(line, want) {
		t.Errorf("line lacks %s", want)
	}
	if !strings.Contains(line, `"metadata": {"ticket": "OPS-1"}`) {
		t.Error("a small object was collapsed too")
	}
}

func TestBoundKeysNestedValuesAndFields(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	e := testEvent(1)
	e.ToolRequest.Params = tollgate.Params{{Key: long, Value: []any{"x", tollgate.Params{{Key: "deep", Value: long}}}}}
	e.Intent.Reason = long
	e.Agent.DelegatedBy = []string{"orchestrator", long}
	line := emitOne(t, e)
	if strings.Contains(line, long) {
		t.Fatal("a long string was written whole")
	}
	if n := strings.Count(line, strings.Repeat("é", 32)+marker(long)); n != 4 {
		t.Errorf("%d markers, want 4 (key, nested value, reason, delegated_by):\n%s", n, line)
	}
	if !strings.Contains(line, `"delegated_by": ["orchestrator", "`) {
		t.Errorf("short delegation entry lost: %s", line)
	}
}

func TestBoundMaxValueSizeOption(t *testing.T) {
	e := testEvent(1)
	e.ToolRequest.Params = tollgate.Params{{Key: "q", Value: strings.Repeat("a", 1000)}}
	if line := emitOne(t, e); !strings.Contains(line, strings.Repeat("a", 1000)) {
		t.Error("a 1000-byte value was cut under the 4 KiB default")
	}
	if line := emitOne(t, e, WithMaxValueSize(500)); strings.Contains(line, strings.Repeat("a", 1000)) || !strings.Contains(line, "TRUNCATED: 1000 bytes") {
		t.Errorf("WithMaxValueSize(500) kept a 1000-byte value: %s", line)
	}
	cfg := defaultFileConfig()
	WithMaxValueSize(1).applyFile(&cfg)
	if cfg.maxValue != minMaxValueSize {
		t.Errorf("WithMaxValueSize(1) = %d", cfg.maxValue)
	}
}

func TestBoundNothingToBoundIsFree(t *testing.T) {
	e := testEvent(1)
	if bound(e, DefaultMaxValueSize) != e {
		t.Error("bound copied an event with nothing to cut")
	}
	if n := testing.AllocsPerRun(100, func() { bound(e, DefaultMaxValueSize) }); n != 0 {
		t.Errorf("bound allocates %v times when nothing is long", n)
	}
}

// encodedLen counts what pycompat.Log writes, escapes and invalid UTF-8
// included.
func FuzzEncodedLen(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00\x1f\"\\\n\r\t\b\f\x7f", "é€😀", "\xff\xfe", "a\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(pycompat.Log.AppendString(nil, s))
		if got := encodedLen(s, 1<<30); got != want {
			t.Fatalf("encodedLen(%q) = %d, want %d", s, got, want)
		}
		if got := encodedLen(s, 10); want > 10 && got <= 10 {
			t.Fatalf("encodedLen(%q, 10) = %d, want > 10", s, got)
		}
	})
}
