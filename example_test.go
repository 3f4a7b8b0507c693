package tollgate_test

import (
	"fmt"

	"github.com/tollgate-go/tollgate"
)

func ExampleParseParams() {
	p, err := tollgate.ParseParams([]byte(`{"path": "/safe/a.txt", "count": 5.0}`))
	if err != nil {
		panic(err)
	}
	count, _ := p.Get("count")
	fmt.Println(p[0].Key, count)
	// Output: path 5.0
}

func ExampleAgent() {
	a := tollgate.Agent{ID: "worker", Version: "1.0", Owner: "team", DelegatedBy: []string{"orchestrator", "router"}}
	fmt.Println(a.Depth(), a.IsDelegated(), a.RootAgent())
	// Output: 2 true orchestrator
}
