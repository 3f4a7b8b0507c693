package audit

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tollgate-go/tollgate"
)

// Secrets that are not named like secrets are found by their look.
func TestTextRedactsSecretsByValue(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://admin:S3cretPw@db/prod", "postgres://admin:[REDACTED]@db/prod"},
		{"connect to mysql://root:hunter2@10.0.0.5:3306/app?ssl=1 now", "connect to mysql://root:[REDACTED]@10.0.0.5:3306/app?ssl=1 now"},
		{"https://user@example.com/x", "https://user@example.com/x"},
		{"Authorization: Bearer abcdef123456", "Authorization: Bearer [REDACTED]"},
		{"auth: Basic YWRtaW46aHVudGVyMg==", "auth: Basic [REDACTED]"},
		{"a basic understanding of the bearer bonds", "a basic understanding of the bearer bonds"},
		{"host=db user=app password=pa55word sslmode=require", "host=db user=app password=[REDACTED] sslmode=require"},
		{"https://api.example.com/v1?api_key=abc123&q=1", "https://api.example.com/v1?api_key=[REDACTED]&q=1"},
		{`{"client_secret": "s3cr3t value", "id": 1}`, `{"client_secret": "[REDACTED]", "id": 1}`},
		{"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl end", "token [REDACTED] end"},
		{"use ghp_0123456789abcdefghijABCDEFGHIJklmnop please", "use [REDACTED] please"},
		{"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[REDACTED]"},
		{"slack xoxb-1234567890-0987654321-AbCdEfGhIjKl", "slack [REDACTED]"},
		{"key id AKIAIOSFODNN7EXAMPLE.", "key id [REDACTED]."},
		{"stripe sk_live_51HxYzAbCdEfGh0123", "stripe [REDACTED]"},
		{"openai sk-proj-AbCdEf0123456789GhIjKl", "openai [REDACTED]"},
		{"aws secret q8Zr3Kt7VbW1yXp0Lm9NcH2sJd5FgTa6Ue4Ro/Pi", "aws secret [REDACTED]"},
		{"hex 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "hex [REDACTED]"},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\ntail", "[REDACTED]\ntail"},
		{"cut -----BEGIN RSA PRIVATE KEY-----\nMIIEow", "cut [REDACTED]"},
		{"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----"},
		// Identifiers, paths and prose stay readable.
		{"550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"},
		{"/usr/local/lib/x86_64-linux-gnu/libssl.so.3", "/usr/local/lib/x86_64-linux-gnu/libssl.so.3"},
		{"customer_12345_invoice_67890_final", "customer_12345_invoice_67890_final"},
		{"projects/my-project-123/locations/us-central1", "projects/my-project-123/locations/us-central1"},
		{"getUserAccountInformation2 OrderService/CreateOrderRequestV2", "getUserAccountInformation2 OrderService/CreateOrderRequestV2"},
		{"remove stale files from the task-queue", "remove stale files from the task-queue"},
		{"https://example.com/a/b?x=1#frag", "https://example.com/a/b?x=1#frag"},
		{"export /srv/exports/2026/02 and /api/v2/users/12345/orders/67890", "export /srv/exports/2026/02 and /api/v2/users/12345/orders/67890"},
		{"img_20240101_123456_HDR_v2_final us-east-1/i-0abcd1234efgh5678", "img_20240101_123456_HDR_v2_final us-east-1/i-0abcd1234efgh5678"},
		{"arn:aws:s3:::my-bucket-2026/logs/app01 at 2026-02-05T03:31:26.550942", "arn:aws:s3:::my-bucket-2026/logs/app01 at 2026-02-05T03:31:26.550942"},
	} {
		if got := DefaultRedactor.Text(c.in); got != c.want {
			t.Errorf("Text(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestTextOffAndAllocations(t *testing.T) {
	secret := "postgres://admin:S3cretPw@db/prod"
	if got := NewRedactor().Text(secret); got != secret {
		t.Errorf("NewRedactor() redacted by value: %q", got)
	}
	if got := NewRedactor("ssn").Text(secret); got == secret {
		t.Error("a Redactor with terms does not redact by value")
	}
	if got := NewRedactor("ssn").Text("ssn=123-45-6789"); got != "ssn=[REDACTED]" {
		t.Errorf("pairs do not use the Redactor's terms: %q", got)
	}
	plain := "remove the stale files in /srv/data/2026 for ticket OPS-1234, as agreed with alice"
	if n := testing.AllocsPerRun(100, func() { DefaultRedactor.Text(plain) }); n != 0 {
		t.Errorf("Text allocates %v times when nothing matches", n)
	}
}

// The secrets of issue 9 reach no output: params under innocent keys, and
// the intent reason.
func TestRedactEventByValue(t *testing.T) {
	e := testEvent(1)
	e.ToolRequest.Params = tollgate.Params{
		{Key: "db_url", Value: "postgres://admin:S3cretPw@db/prod"},
		{Key: "headers", Value: []any{"auth: Basic YWRtaW46aHVudGVyMg=="}},
	}
	e.Intent.Reason = "rotate ghp_0123456789abcdefghijABCDEFGHIJklmnop now"
	e.ResultSummary = "got sk_live_51HxYzAbCdEfGh0123"
	line := string(DefaultRedactor.Event(e).AppendJSON(nil))
	for _, s := range []string{"S3cretPw", "YWRtaW46aHVudGVyMg", "ghp_", "sk_live_"} {
		if strings.Contains(line, s) {
			t.Errorf("%s leaks: %s", s, line)
		}
	}
	if !strings.Contains(line, "postgres://admin:[REDACTED]@db/prod") || !strings.Contains(line, `"rotate [REDACTED] now"`) {
		t.Errorf("redaction lost the context: %s", line)
	}
	if strings.Contains(string(e.AppendJSON(nil)), "[REDACTED]") {
		t.Error("the caller's event was changed")
	}
}

func FuzzRedactText(f *testing.F) {
	for _, s := range []string{
		"postgres://admin:S3cretPw@db/prod", "Bearer abcdefgh123", "Basic YWRtaW46aHVudGVyMg==",
		"password=x&token=y", `{"secret": "a\"b"}`, "eyJa.eyJb.c", "-----BEGIN X PRIVATE KEY-----",
		"ghp_0123456789abcdefghijABCDEFGHIJklmnop", "://@:", "a=:=:\"", "\xff\xfe://\x00:@", "",
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE9KEY==",
	} {
		f.Add(s)
	}
	const planted = "ghp_0123456789abcdefghijABCDEFGHIJklmnop"
	f.Fuzz(func(t *testing.T, s string) {
		out := DefaultRedactor.Text(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q is not UTF-8", s, out)
		}
		if !strings.Contains(out, Redacted) && out != s {
			t.Fatalf("Text(%q) = %q changed without redacting", s, out)
		}
		// A known token between spaces is always found, whatever surrounds it.
		if got := DefaultRedactor.Text(s + " " + planted + " " + s); strings.Contains(got, planted) {
			t.Fatalf("planted token survives in %q", got)
		}
	})
}

func TestTokenStartsCoverFormats(t *testing.T) {
	for _, f := range tokenFormats {
		if !strings.Contains(tokenStarts, f.prefix[:1]) {
			t.Errorf("tokenStarts lacks %q, the start of %q", f.prefix[:1], f.prefix)
		}
	}
}
