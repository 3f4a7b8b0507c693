package pycompat

import (
	"encoding/json"
	"strconv"

	"github.com/tollgate-go/tollgate"
)

// Equal is Python's ==: numbers compare by value across int and float, and
// bools are the numbers 0 and 1 (so true == 1); lists compare element-wise;
// objects compare by content regardless of key order; values of different
// kinds are unequal.
func Equal(a, b any) bool {
	if na, ok := toNumeric(a); ok {
		nb, ok := toNumeric(b)
		if !ok {
			return false
		}
		c, ok := cmpNumeric(na, nb)
		return ok && c == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case tollgate.Params:
		y, ok := b.(tollgate.Params)
		if !ok || len(x) != len(y) {
			return false
		}
		for _, f := range x {
			v, ok := y.Get(f.Key)
			if !ok || !Equal(f.Value, v) {
				return false
			}
		}
		return true
	}
	return false
}

// Compare orders a and b as Python's < does for numbers (bools included),
// strings (by code point) and lists (lexicographically). ok is false when
// Python would raise TypeError (incompatible kinds, null, objects) or when a
// NaN is involved.
func Compare(a, b any) (c int, ok bool) {
	if na, isNum := toNumeric(a); isNum {
		nb, isNum := toNumeric(b)
		if !isNum {
			return 0, false
		}
		return cmpNumeric(na, nb)
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case []any:
		y, ok := b.([]any)
		if !ok {
			return 0, false
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			if Equal(x[i], y[i]) {
				continue
			}
			return Compare(x[i], y[i])
		}
		return Compare(json.Number(strconv.Itoa(len(x))), json.Number(strconv.Itoa(len(y))))
	}
	return 0, false
}
