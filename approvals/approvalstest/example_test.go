package approvalstest_test

import (
	"testing"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/approvals/approvalstest"
)

// A backend proves itself by running the suite from its own test file. The
// example has no output: RunConformance needs the *testing.T of a real test.
func ExampleRunConformance() {
	_ = func(t *testing.T) { // func TestConformance(t *testing.T) in the backend's package
		approvalstest.RunConformance(t, func(t *testing.T) approvals.Store {
			return approvals.NewMemoryStore() // return a new, empty store of your backend
		})
	}
}
