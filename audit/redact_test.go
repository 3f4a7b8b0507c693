package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

func TestDefaultRedactorMatch(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "DB_Password": true, "passwd": true, "client_secret": true,
		"access_token": true, "apiKey": true, "api_key": true, "X-Api-Key": true,
		"Authorization": true, "aws_credentials": true, "private_key": true, "PrivateKey": true,
		"Cookie": true, "session_id": true, "key": true, "KEY": true, "k_e-y": true,
		// The Kelvin sign folds to k, the long s to s.
		"\u212aey": true, "pa\u017f\u017fword": true,
		"keyboard": false, "monkey": false, "keys": false, "path": false, "id": false,
		"tokn": false, "": false, "описание": false,
	} {
		if got := DefaultRedactor.Match(key); got != want {
			t.Errorf("Match(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestNewRedactorTerms(t *testing.T) {
	r := NewRedactor("SSN", "=user-id", "", "_", "=")
	for key, want := range map[string]bool{
		"ssn": true, "customer_ssn": true, "user_id": true, "UserID": true,
		"user_id_hash": false, "password": false, "anything": false,
	} {
		if got := r.Match(key); got != want {
			t.Errorf("Match(%q) = %v, want %v", key, got, want)
		}
	}
	if NewRedactor().Match("password") {
		t.Error("NewRedactor() redacts")
	}
	var nilRedactor *Redactor
	if !nilRedactor.Match("password") || nilRedactor.Match("path") {
		t.Error("a nil Redactor does not behave as DefaultRedactor")
	}
}

func mustParams(t testing.TB, s string) tollgate.Params {
	t.Helper()
	p, err := tollgate.ParseParams([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func logJSON(v any) string { return string(pycompat.Log.AppendJSON(nil, v)) }

func TestRedactAtAnyDepth(t *testing.T) {
	in := `{"path": "/x", "password": "p", "opts": {"headers": [{"Authorization": "Bearer t", "Accept": "*/*"}, "plain", [{"api_key": 1}]], "depth": {"db": {"Secret": {"nested": "whole value goes"}}}}, "n": 1.5, "keyboard": "ok"}`
	want := `{"path": "/x", "password": "[REDACTED]", "opts": {"headers": [{"Authorization": "[REDACTED]", "Accept": "*/*"}, "plain", [{"api_key": "[REDACTED]"}]], "depth": {"db": {"Secret": "[REDACTED]"}}}, "n": 1.5, "keyboard": "ok"}`
	p := mustParams(t, in)
	got := DefaultRedactor.Params(p)
	if logJSON(got) != want {
		t.Errorf("Params:\n got %s\nwant %s", logJSON(got), want)
	}
	if logJSON(p) != logJSON(mustParams(t, in)) {
		t.Errorf("caller's params changed: %s", logJSON(p))
	}
	if &got[0] == &p[0] {
		t.Error("the caller's object was changed in place, not copied")
	}
}

func TestRedactNothingToRedactIsFreeAndShared(t *testing.T) {
	p := mustParams(t, `{"path": "/x", "opts": {"list": [1, {"a": "b"}], "deep": {"x": null}}, "keyboard": "ok"}`)
	if got := DefaultRedactor.Params(p); &got[0] != &p[0] {
		t.Error("Params copied an object with nothing to redact")
	}
	if n := testing.AllocsPerRun(100, func() { DefaultRedactor.Params(p) }); n != 0 {
		t.Errorf("Params allocates %v times when nothing matches", n)
	}
	e := testEvent(1)
	if DefaultRedactor.Event(e) != e {
		t.Error("Event copied an event with nothing to redact")
	}
	if n := testing.AllocsPerRun(100, func() { DefaultRedactor.Event(e) }); n != 0 {
		t.Errorf("Event allocates %v times when nothing matches", n)
	}
}

func TestRedactEventAllFourMaps(t *testing.T) {
	e := testEvent(1)
	e.Agent.Metadata = tollgate.Params{{Key: "session", Value: "s"}, {Key: "_signature", Value: "sig"}}
	e.Intent.Metadata = tollgate.Params{{Key: "user", Value: tollgate.Params{{Key: "token", Value: "t"}}}}
	e.ToolRequest.Params = tollgate.Params{{Key: "cookie", Value: "c"}}
	e.ToolRequest.Metadata = tollgate.Params{{Key: "list", Value: []any{tollgate.Params{{Key: "credential", Value: "x"}}}}}
	e.Decision.Metadata = tollgate.Params{{Key: "rule", Value: "r"}}
	before := string(e.AppendJSON(nil))

	r := DefaultRedactor.Event(e)
	if r == e {
		t.Fatal("Event returned the original")
	}
	line := string(r.AppendJSON(nil))
	for _, secret := range []string{`"s"`, `"t"`, `"c"`, `"x"`, "sig"} {
		if strings.Contains(line, secret) {
			t.Errorf("%s not redacted: %s", secret, line)
		}
	}
	if strings.Count(line, `"[REDACTED]"`) != 4 {
		t.Errorf("want 4 redactions: %s", line)
	}
	// Everything else is the same: undo the four redactions textually.
	undo := strings.NewReplacer(`"session": "[REDACTED]"`, `"session": "s"`, `"token": "[REDACTED]"`, `"token": "t"`,
		`"cookie": "[REDACTED]"`, `"cookie": "c"`, `"credential": "[REDACTED]"`, `"credential": "x"`)
	if got := undo.Replace(line); got != before {
		t.Errorf("redaction changed more than the secrets:\n got %s\nwant %s", got, before)
	}
	if string(e.AppendJSON(nil)) != before {
		t.Error("caller's event changed")
	}
}

func TestRedactTooDeepIsRedactedWhole(t *testing.T) {
	var v any = tollgate.Params{{Key: "leaf", Value: "x"}}
	for range tollgate.MaxDepth + 5 {
		v = []any{v}
	}
	p := tollgate.Params{{Key: "deep", Value: v}, {Key: "flat", Value: json.Number("1")}}
	got := DefaultRedactor.Params(p)
	if !strings.Contains(logJSON(got), `"[REDACTED]"`) || strings.Contains(logJSON(got), "leaf") {
		t.Errorf("a value nested deeper than MaxDepth was not redacted")
	}
	if v, _ := got.Get("flat"); v != json.Number("1") {
		t.Errorf("flat = %v", v)
	}
}
