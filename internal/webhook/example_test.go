package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tollgate-go/tollgate/internal/webhook"
)

func Example() {
	secret := []byte("shared with the receiver")
	got := make(chan bool, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The receiver checks the signature over the raw body and the
		// signed timestamp against its own clock.
		err := webhook.Verify(secret, body, r.Header.Get(webhook.HeaderSignature), time.Now(), webhook.DefaultTolerance)
		got <- err == nil
	}))
	defer receiver.Close()

	s, err := webhook.New(receiver.URL, webhook.WithSecret(secret))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Send([]byte(`{"type":"approval.created"}`)) // returns at once
	_ = s.Close(context.Background())                 // waits for the delivery
	fmt.Println("signature verified:", <-got, "delivered:", s.Stats().Delivered)
	// Output: signature verified: true delivered: 1
}
