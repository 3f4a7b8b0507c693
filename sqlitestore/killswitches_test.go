package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/killswitch/killswitchtest"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

func killSwitches(t *testing.T, db *sqlitestore.DB, opts ...killswitch.Option) *sqlitestore.KillSwitchStore {
	t.Helper()
	s, err := db.KillSwitches(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceSQLiteKillSwitches(t *testing.T) {
	killswitchtest.RunConformance(t, func(t *testing.T) killswitch.Store { return killSwitches(t, openDB(t)) })
}

// Two processes sharing the file: a switch one sets reaches the other's
// Matcher within its resync interval, while Run runs.
func TestKillSwitchesReachAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a := killSwitches(t, openPath(t, path))
	b := killSwitches(t, openPath(t, path), killswitch.WithResyncInterval(50*time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go b.Run(ctx, nil)

	sw, err := a.Set(t.Context(), killswitch.Switch{Scope: killswitch.Agent("support-bot"), Reason: "incident"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		m, err := b.Matcher()
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := m.Match(tollgate.Agent{ID: "support-bot"}, "t", time.Now()); ok && got.ID == sw.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process did not see the switch within 1s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A scope the table holds but this build cannot read keeps the previous
// state (which grows stale and fails closed) instead of lifting the switch.
func TestKillSwitchesUnreadableScope(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db := openPath(t, path)
	s := killSwitches(t, db)
	if _, err := s.Set(t.Context(), killswitch.Switch{ID: "k", Scope: killswitch.Global(), Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	if _, err := raw.Exec(`UPDATE tollgate_kill_switches SET scope = 'planet:earth'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(t.Context()); err == nil {
		t.Fatal("Sync read an unknown scope without an error")
	}
	if m, err := s.Matcher(); err != nil || m.Len() != 1 {
		t.Fatalf("Matcher = %d switches, %v; want the previous state", m.Len(), err)
	}
	if _, err := s.List(t.Context(), time.Now()); err == nil {
		t.Error("List hid the unreadable switch")
	}
}
