package pycompat

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// IsFloat reports whether a number's text is a Python float (it has a
// fraction, an exponent, or is inf/nan) rather than an int.
func IsFloat(n json.Number) bool {
	return strings.ContainsAny(string(n), ".eEnNiI")
}

// numeric is a number decoded for comparison: exact for ints, float64 for
// floats; bools count as ints 0 and 1, as in Python.
type numeric struct {
	isInt bool
	i     *big.Int
	f     float64
}

func toNumeric(v any) (numeric, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return numeric{isInt: true, i: big.NewInt(1)}, true
		}
		return numeric{isInt: true, i: big.NewInt(0)}, true
	case json.Number:
		if IsFloat(t) {
			f, err := strconv.ParseFloat(string(t), 64)
			if err != nil && !isRangeErr(err) {
				return numeric{}, false
			}
			return numeric{f: f}, true
		}
		i, ok := new(big.Int).SetString(string(t), 10)
		if !ok {
			return numeric{}, false
		}
		return numeric{isInt: true, i: i}, true
	case int:
		return numeric{isInt: true, i: big.NewInt(int64(t))}, true
	case int64:
		return numeric{isInt: true, i: big.NewInt(t)}, true
	case float64:
		return numeric{f: t}, true
	}
	return numeric{}, false
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// cmpNumeric compares two numbers; ok is false when either is NaN.
func cmpNumeric(a, b numeric) (int, bool) {
	if a.isInt && b.isInt {
		return a.i.Cmp(b.i), true
	}
	af, bf := a.float(), b.float()
	if math.IsNaN(af) || math.IsNaN(bf) {
		return 0, false
	}
	if a.isInt != b.isInt {
		// int against float: compare exactly, as Python does.
		return a.big().Cmp(b.big()), true
	}
	switch {
	case af < bf:
		return -1, true
	case af > bf:
		return 1, true
	}
	return 0, true
}

func (n numeric) big() *big.Float {
	if n.isInt {
		return new(big.Float).SetInt(n.i)
	}
	return new(big.Float).SetFloat64(n.f)
}

func (n numeric) float() float64 {
	if n.isInt {
		f, _ := new(big.Float).SetInt(n.i).Float64()
		return f
	}
	return n.f
}

// FormatFloat writes f as Python's repr(float) does: the shortest digits that
// round-trip, integral values keep ".0", exponent form below 1e-4 and from
// 1e16 on ("1e-05", "1e+16"), and inf/nan spelled as in json.dumps.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		e := strconv.Itoa(exp)
		if len(e) < 2 {
			e = "0" + e
		}
		return mant + "e" + sign + e
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(out, ".") {
		out += ".0"
	}
	return out
}

// FormatNumber writes a number as Python would after json.loads: ints as
// decimal digits, floats through FormatFloat.
func FormatNumber(n json.Number) string {
	if IsFloat(n) {
		f, _ := strconv.ParseFloat(string(n), 64)
		return FormatFloat(f)
	}
	if isCanonicalInt(string(n)) {
		return string(n)
	}
	if i, ok := new(big.Int).SetString(string(n), 10); ok {
		return i.String()
	}
	return string(n)
}

// isCanonicalInt reports whether s is already how Python prints the int:
// digits without leading zeros, optionally negative, and not "-0".
func isCanonicalInt(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
		if s == "0" {
			return false
		}
	}
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
