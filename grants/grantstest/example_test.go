package grantstest_test

import (
	"testing"

	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/grants/grantstest"
)

// A backend proves itself by running the suite from its own test file. The
// example has no output: RunConformance needs the *testing.T of a real test.
func ExampleRunConformance() {
	_ = func(t *testing.T) { // func TestConformance(t *testing.T) in the backend's package
		grantstest.RunConformance(t, func(t *testing.T) grants.Store {
			return grants.NewMemory() // return a new, empty store of your backend
		})
	}
}
