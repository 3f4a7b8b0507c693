package yamlx_test

import (
	"fmt"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

func Example() {
	doc, _ := yamlx.Parse("policy.yaml", []byte("version: 1.10\nenabled: yes\n"))
	v, _ := doc.Value(doc.Root)
	fmt.Printf("%v\n", v)

	_, err := yamlx.Parse("policy.yaml", []byte("a: 1\na: 2\n"))
	fmt.Println(err)
	// Output:
	// [{version 1.1} {enabled true}]
	// policy.yaml:2:1: duplicate key "a" (PyYAML silently keeps the last one; remove one of them)
}
