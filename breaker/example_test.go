package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate/breaker"
)

func ExampleNew() {
	breakers, err := breaker.New(breaker.Settings{
		FailureThreshold: 2,
		Cooldown:         30 * time.Second,
		// A fixed clock for the example; production code leaves the default.
		Clock: func() time.Time { return time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	callTool := func() error { return errors.New("connection refused") }

	for i := 1; i <= 3; i++ {
		done, err := breakers.Allow(ctx, "api:fetch_data")
		var open *breaker.OpenError
		if errors.As(err, &open) {
			fmt.Printf("call %d refused: %s (retry after %v)\n", i, open.Reason, open.RetryAfter)
			continue
		}
		if err := callTool(); err != nil {
			done(breaker.Failure)
			fmt.Printf("call %d failed: %v\n", i, err)
			continue
		}
		done(breaker.Success)
	}
	fmt.Println(breakers.State("api:fetch_data"))
	// Output:
	// call 1 failed: connection refused
	// call 2 failed: connection refused
	// call 3 refused: Circuit OPEN for api:fetch_data: 30.0s remaining in cooldown (opened after 2 consecutive failures) (retry after 30s)
	// open
}

// A call refused later in the pipeline, or cancelled, is reported as
// Ignored: it says nothing about the tool's health.
func ExampleBreakers_Allow_ignored() {
	breakers, _ := breaker.New(breaker.Settings{FailureThreshold: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	done, _ := breakers.Allow(ctx, "api:write_file")
	if ctx.Err() != nil {
		done(breaker.Ignored)
	}
	fmt.Println(breakers.State("api:write_file"))
	// Output:
	// closed
}
