package webhook_test

import (
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tollgate-go/tollgate/internal/webhook"
)

func Example() {
	secret := []byte("shared with the receiver")
	got := make(chan bool, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The receiver recomputes the signature over the raw body.
		want := webhook.Signature(secret, body)
		got <- hmac.Equal([]byte(r.Header.Get(webhook.HeaderSignature)), []byte(want))
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
