package pycompat_test

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

func Example() {
	p, _ := tollgate.ParseParams([]byte(`{"z": 1e2, "a": "ü"}`))
	fmt.Println(string(pycompat.Canonical.AppendJSON(nil, p)))
	fmt.Println(pycompat.Repr(p))
	fmt.Println(pycompat.Equal(json.Number("1"), true))
	// Output:
	// {"a": "\u00fc", "z": 100.0}
	// {'z': 100.0, 'a': 'ü'}
	// true
}
