package killswitch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate/killswitch"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want killswitch.Scope
	}{
		{"global", killswitch.Global()},
		{"agent:support-bot", killswitch.Agent("support-bot")},
		{"agent:spiffe://example.org/ns/a", killswitch.Agent("spiffe://example.org/ns/a")},
		{"tool:db:drop", killswitch.Tool("db:drop")},
		{"tool:mcp:*", killswitch.Tool("mcp:*")},
		{"tool:*", killswitch.Tool("*")},
		{"session:2f1c", killswitch.Session("2f1c")},
	} {
		got, err := killswitch.ParseScope(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseScope(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestParseScopeRefuses(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "want global, agent:ID"},
		{"Global", "want global, agent:ID"},
		{"global:x", "global takes no value"},
		{"global:", "global takes no value"},
		{"agent:", "agent needs a value"},
		{"AGENT:x", `kind "AGENT"`},
		{"user:x", `kind "user"`},
		{"tool:a*b", `"*" may only end it`},
		{"tool:**", `"*" may only end it`},
		{"session:a\nb", "control characters"},
		{"agent:\xff", "not UTF-8"},
		{"agent:" + strings.Repeat("a", killswitch.MaxValueLen+1), "over the 512-byte limit"},
	} {
		_, err := killswitch.ParseScope(tc.in)
		if !errors.Is(err, killswitch.ErrInvalidScope) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseScope(%.40q) = %v; want ErrInvalidScope saying %q", tc.in, err, tc.msg)
		}
	}
}

// FuzzParseScope: parsing never panics, and whatever parses prints back to
// the same text and validates.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"global", "agent:a", "tool:mcp:*", "tool:a*b", "session:s", "agent:", ":", "global:", "x:y:z", "tool:*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := killswitch.ParseScope(s)
		if err != nil {
			if !errors.Is(err, killswitch.ErrInvalidScope) {
				t.Fatalf("ParseScope(%q) error %v does not wrap ErrInvalidScope", s, err)
			}
			return
		}
		if sc.String() != s {
			t.Fatalf("ParseScope(%q).String() = %q", s, sc.String())
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("parsed scope %+v does not validate: %v", sc, err)
		}
	})
}

func TestSwitchValidate(t *testing.T) {
	long := strings.Repeat("r", killswitch.MaxReasonLen+1)
	for _, sw := range []killswitch.Switch{
		{Scope: killswitch.Global()},
		{Scope: killswitch.Global(), Reason: long},
		{Scope: killswitch.Global(), Reason: "r", SetBy: "\xff"},
		{Scope: killswitch.Scope{}, Reason: "r"},
	} {
		if err := sw.Validate(); !errors.Is(err, killswitch.ErrInvalidSwitch) {
			t.Errorf("Validate(%.60v) = %v, want ErrInvalidSwitch", sw, err)
		}
	}
}
