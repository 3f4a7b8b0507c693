package tower

import (
	"encoding/json"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// summaryLimit is Tollgate's cut for result summaries (then "..." is added).
const summaryLimit = 200

// renderCap is how many bytes of a result are rendered before rendering
// stops: enough for summaryLimit+1 runes of up to 4 bytes each, so a cut
// at summaryLimit runes falls where it would in the whole text, and the
// text is known to be longer.
const renderCap = 4 * (summaryLimit + 1)

// summarize renders a tool result for the audit record: strings as they
// are, proto messages as compact text, other Stringers through String,
// anything else as JSON, cut at 200 characters. It renders only about as
// much as it keeps: a 1 MiB result costs no more than a small one (except
// through a String or Error method, which returns the whole text).
func summarize(result any) string {
	switch r := result.(type) {
	case nil:
		return ""
	case string:
		return cut(r)
	case []byte:
		return cut(string(r[:min(len(r), renderCap)]))
	case protoreflect.ProtoMessage:
		return cut(string(appendProto(make([]byte, 0, 256), r.ProtoReflect())))
	case fmt.Stringer:
		return cut(r.String())
	case error:
		return cut(r.Error())
	}
	b, err := appendJSON(make([]byte, 0, 256), reflect.ValueOf(result), 0)
	if err != nil {
		// What the bounded encoder cannot encode, encoding/json may not
		// either: summarize as Tollgate did.
		b, err = json.Marshal(result)
		if err != nil {
			return cut(fmt.Sprint(result))
		}
	}
	return cut(string(b))
}

// cut keeps the first summaryLimit runes of s and marks a cut with "...".
func cut(s string) string {
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
