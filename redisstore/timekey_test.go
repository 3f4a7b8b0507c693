package redisstore

import (
	"strings"
	"testing"
	"time"
)

// FuzzTimeKey checks that time keys round-trip exactly and that their byte
// order is time order, which the sorted sets and scripts rely on.
func FuzzTimeKey(f *testing.F) {
	for _, seed := range [][4]int64{
		{0, 0, 0, 1},
		{-1, 999_999_999, 0, 0},
		{1_700_000_000, 5, 1_700_000_000, 6},
		{-62_135_596_800, 0, 253_402_300_799, 999_999_999}, // year 1 and year 9999
		{1 << 62, 0, -(1 << 62), 0},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, sa, na, sb, nb int64) {
		a, b := time.Unix(sa, na), time.Unix(sb, nb)
		ka, kb := timeKey(a), timeKey(b)
		if len(ka) != timeKeyLen {
			t.Fatalf("timeKey(%v) = %q: length %d, want %d", a, ka, len(ka), timeKeyLen)
		}
		if got, err := parseTimeKey(ka); err != nil || !got.Equal(a) {
			t.Fatalf("parseTimeKey(timeKey(%v)) = %v, %v", a, got, err)
		}
		if got, want := strings.Compare(ka, kb), a.Compare(b); got != want {
			t.Fatalf("%v vs %v: keys compare %d, times %d", a, b, got, want)
		}
	})
}

func TestParseTimeKeyRefusesMalformed(t *testing.T) {
	for _, s := range []string{
		"",
		"8000000000000000",                // too short
		"80000000000000000000000g",        // not hex
		"80000000000000003b9aca00",        // 1e9 nanoseconds
		strings.Repeat("0", timeKeyLen+2), // too long
	} {
		if got, err := parseTimeKey(s); err == nil {
			t.Errorf("parseTimeKey(%q) = %v; want an error", s, got)
		}
	}
	if got, err := parseOptionalTimeKey(""); err != nil || !got.IsZero() {
		t.Errorf(`parseOptionalTimeKey("") = %v, %v; want the zero time`, got, err)
	}
}
