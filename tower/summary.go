package tower

import (
	"encoding/json"
	"fmt"
	"reflect"
	"unicode/utf8"
)

// summaryLimit is Tollgate's cut for result summaries (then "..." is added).
const summaryLimit = 200

// summarize renders a tool result for the audit record: strings as they
// are, Stringers through String, anything else as JSON, cut at 200
// characters.
func summarize(result any) string {
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

// typeName is the error's type without package path, as Tollgate records
// "<ExceptionClassName>: Execution failed" (the message itself is not
// logged: it may hold secrets).
func typeName(err error) string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "error"
	}
	return t.Name()
}
