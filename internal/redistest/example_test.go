package redistest_test

import (
	"fmt"

	"github.com/tollgate-go/tollgate/internal/redistest"
)

// Start needs the *testing.T of a real test, so this example only shows the
// switch that makes a missing server fail instead of skip:
//
//	func TestSomething(t *testing.T) {
//		srv := redistest.Start(t)
//		client := srv.Client(t)
//		// ... use client; the server stops when the test ends
//	}
func Example() {
	fmt.Printf("%s=1 go test ./...   # fail, not skip, without %s\n", redistest.RequireEnv, redistest.Binary)
	// Output: TOLLGATE_REQUIRE_REDIS=1 go test ./...   # fail, not skip, without redis-server
}
