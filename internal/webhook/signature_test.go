package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	sigSecret = []byte("s3cret")
	sigBody   = []byte(`{"type":"approval.created","approval":{"id":"a-1"}}`)
	signedAt  = time.Unix(1_800_000_000, 0)
)

func TestSignKnownAnswer(t *testing.T) {
	// HMAC-SHA256("Jefe", "1800000000.what do ya want for nothing?"),
	// computed independently with Python's hmac module.
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"), time.Unix(1_800_000_000, 999_999_999))
	if want := "t=1800000000,v1=ab5a2e6f7ddd4f6783bae7a65618acf1b188b4ca973bbebbbdeb60024ee0f3f3"; got != want {
		t.Errorf("Sign = %s\nwant   %s", got, want)
	}
}

func TestVerifyAcceptsWithinTolerance(t *testing.T) {
	h := Sign(sigSecret, sigBody, signedAt)
	for _, now := range []time.Time{
		signedAt,
		signedAt.Add(DefaultTolerance),  // the oldest accepted
		signedAt.Add(-DefaultTolerance), // the receiver's clock is behind
	} {
		if err := Verify(sigSecret, sigBody, h, now, DefaultTolerance); err != nil {
			t.Errorf("now %v: %v", now.Sub(signedAt), err)
		}
	}
}

// TestVerifyRefusesReplayWithNewTimestamp is the attack the timestamp in
// the MAC stops: a captured delivery sent again with a fresh t and the
// old v1 (or the old t in a header the receiver ignores).
func TestVerifyRefusesReplayWithNewTimestamp(t *testing.T) {
	captured := Sign(sigSecret, sigBody, signedAt)
	_, v1, _ := strings.Cut(captured, ",")
	later := signedAt.Add(time.Hour)
	replayed := "t=1800003600," + v1
	if err := Verify(sigSecret, sigBody, replayed, later, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("replayed body with a changed timestamp: %v, want ErrSignatureMismatch", err)
	}
	// Sent as captured, it is refused for its age.
	err := Verify(sigSecret, sigBody, captured, later, DefaultTolerance)
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "2027-01-15T08:00:00Z") {
		t.Errorf("replayed as captured an hour later: %v, want ErrStale naming the signing time", err)
	}
}

func TestVerifyRefusesOutsideTolerance(t *testing.T) {
	h := Sign(sigSecret, sigBody, signedAt)
	for name, now := range map[string]time.Time{
		"too old":       signedAt.Add(DefaultTolerance + time.Second),
		"from a future": signedAt.Add(-DefaultTolerance - time.Second),
	} {
		if err := Verify(sigSecret, sigBody, h, now, DefaultTolerance); !errors.Is(err, ErrStale) {
			t.Errorf("%s: %v, want ErrStale", name, err)
		}
	}
	if err := Verify(sigSecret, sigBody, h, signedAt.Add(2*time.Second), time.Second); !errors.Is(err, ErrStale) {
		t.Errorf("tighter tolerance: %v, want ErrStale", err)
	}
}

func TestVerifyRefusesAlteredOrForged(t *testing.T) {
	h := Sign(sigSecret, sigBody, signedAt)
	if err := Verify(sigSecret, append(sigBody[:len(sigBody):len(sigBody)], ' '), h, signedAt, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("altered body: %v", err)
	}
	if err := Verify([]byte("other"), sigBody, h, signedAt, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("other secret: %v", err)
	}
	// A rotation: the header carries signatures under the old and new
	// secret, and a receiver with either accepts.
	rotated := h + "," + strings.TrimPrefix(Sign([]byte("new"), sigBody, signedAt), "t=1800000000,")
	for _, secret := range []string{"s3cret", "new"} {
		if err := Verify([]byte(secret), sigBody, rotated, signedAt, DefaultTolerance); err != nil {
			t.Errorf("rotation, secret %q: %v", secret, err)
		}
	}
	if err := Verify([]byte("third"), sigBody, rotated, signedAt, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("rotation, unrelated secret: %v", err)
	}
}

func TestVerifyRefusesMalformedHeaders(t *testing.T) {
	_, v1, _ := strings.Cut(Sign(sigSecret, sigBody, signedAt), ",")
	for name, tc := range map[string]struct {
		header string
		want   error
	}{
		"empty":              {"", ErrNoSignature},
		"blank":              {"  ", ErrNoSignature},
		"legacy sha256=":     {"sha256=" + strings.Repeat("ab", 32), ErrMalformedSignature},
		"no v1":              {"t=1800000000", ErrNoSignature},
		"only other schemes": {"t=1800000000,v0=abcd", ErrNoSignature},
		"no t":               {v1, ErrMalformedSignature},
		"two t":              {"t=1800000000,t=1800000001," + v1, ErrMalformedSignature},
		"negative t":         {"t=-1," + v1, ErrMalformedSignature},
		"signed t":           {"t=+1800000000," + v1, ErrMalformedSignature},
		"empty t":            {"t=," + v1, ErrMalformedSignature},
		"huge t":             {"t=9999999999999999999," + v1, ErrMalformedSignature},
		"t not digits":       {"t=18e8," + v1, ErrMalformedSignature},
		"short v1":           {"t=1800000000,v1=abcd", ErrMalformedSignature},
		"v1 not hex":         {"t=1800000000,v1=" + strings.Repeat("zz", 32), ErrMalformedSignature},
		"no key=value":       {"t=1800000000,garbage," + v1, ErrMalformedSignature},
		"too long":           {"t=1800000000," + v1 + strings.Repeat(",x=y", 2000), ErrMalformedSignature},
	} {
		if err := Verify(sigSecret, sigBody, tc.header, signedAt, DefaultTolerance); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// Spaces after commas, as some proxies fold headers, are accepted.
	if err := Verify(sigSecret, sigBody, "t=1800000000, "+v1, signedAt, DefaultTolerance); err != nil {
		t.Errorf("space after the comma: %v", err)
	}
}

func TestVerifyRefusesBadArguments(t *testing.T) {
	h := Sign(sigSecret, sigBody, signedAt)
	for name, err := range map[string]error{
		"empty secret":    Verify(nil, sigBody, h, signedAt, DefaultTolerance),
		"zero tolerance":  Verify(sigSecret, sigBody, h, signedAt, 0),
		"negative window": Verify(sigSecret, sigBody, h, signedAt, -time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzVerify(f *testing.F) {
	good := Sign(sigSecret, sigBody, signedAt)
	for _, seed := range []string{
		good, "", "t=", "v1=", "t=1,v1=", "sha256=00", ",,,", "t=1800000000,v1=" + strings.Repeat("0", 64),
		good + ",v1=" + strings.Repeat("f", 64), "t=1800000000 ,v1=x", "=,=", "t=00000000000000000,v1=00",
	} {
		f.Add(seed, string(sigBody))
	}
	f.Fuzz(func(t *testing.T, header, body string) {
		err := Verify(sigSecret, []byte(body), header, signedAt, DefaultTolerance)
		if err == nil && header != good && !strings.Contains(header, "v1=") {
			t.Fatalf("accepted %q without a v1 signature", header)
		}
		for _, e := range []error{ErrNoSignature, ErrMalformedSignature, ErrSignatureMismatch, ErrStale} {
			if errors.Is(err, e) {
				return
			}
		}
		if err != nil {
			t.Fatalf("error %v is none of Verify's kinds", err)
		}
		// Whatever is accepted must be signed over this body.
		if Verify(sigSecret, []byte(body+"x"), header, signedAt, DefaultTolerance) == nil {
			t.Fatalf("%q verifies for two bodies", header)
		}
	})
}
