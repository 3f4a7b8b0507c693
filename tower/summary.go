package tower

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"unicode/utf8"

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
	case protoreflect.ProtoMessage: // before Stringer: its String renders the whole message
		return render(func(b []byte) ([]byte, error) { return appendProto(b, r.ProtoReflect()), nil })
	case fmt.Stringer:
		return cut(r.String())
	case error:
		return cut(r.Error())
	case []byte:
		return render(func(b []byte) ([]byte, error) { return append(b, r[:min(len(r), renderCap)]...), nil })
	}
	if s, ok := renderOK(func(b []byte) ([]byte, error) { return appendJSON(b, reflect.ValueOf(result), 0) }); ok {
		return s
	}
	// What the bounded encoder cannot encode, encoding/json may not either:
	// summarize as Tollgate did.
	b, err := json.Marshal(result)
	if err != nil {
		return cut(fmt.Sprint(result))
	}
	return cut(string(b))
}

// render runs appendText on a pooled buffer and returns the text, cut.
func render(appendText func([]byte) ([]byte, error)) string {
	s, _ := renderOK(appendText)
	return s
}

func renderOK(appendText func([]byte) ([]byte, error)) (string, bool) {
	bp := renderBufs.Get().(*[]byte)
	b, err := appendText((*bp)[:0])
	var s string
	if err == nil {
		s = cutBytes(b)
	}
	if cap(b) <= maxPooledRender {
		*bp = b
		renderBufs.Put(bp)
	}
	return s, err == nil
}

// renderBufs pools the buffers results are rendered into: the text escapes
// the renderers' reach of the stack, and every executed call renders one.
var renderBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2*renderCap); return &b }}

// maxPooledRender bounds the buffers kept: a value handed whole to
// json.Marshal may have grown one far past renderCap.
const maxPooledRender = 8 * renderCap

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

// cutBytes is string(cut(b)) with one allocation; it writes over b.
func cutBytes(b []byte) string {
	n := 0
	for i := 0; i < len(b); n++ {
		if n == summaryLimit {
			return string(append(b[:i], "..."...))
		}
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return string(b)
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
