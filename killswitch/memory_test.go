package killswitch_test

import (
	"testing"

	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/killswitch/killswitchtest"
)

func TestConformanceMemory(t *testing.T) {
	killswitchtest.RunConformance(t, func(t *testing.T) killswitch.Store {
		m, err := killswitch.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}
