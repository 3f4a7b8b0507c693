package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
)

func TestKillCommands(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		s := startAdmin(t)
		flags := s.flags(protocol)
		run := func(args ...string) result { return cli(t, nil, append(args, flags...)...) }

		run("kill", "list").want(t, exitOK).contains(t, "no kill switches")
		set := run("kill", "set", "--scope", "agent:support-bot", "--reason", "leaking tickets", "--ttl", "1h").want(t, exitOK)
		lines := strings.Split(strings.TrimSuffix(set.stdout, "\n"), "\n")
		id := lines[0]
		if len(lines) != 2 || len(id) != 36 || strings.ContainsAny(id, " \t") {
			t.Fatalf("set printed %q; want the id alone on the first line, then a summary", set.stdout)
		}
		if !strings.Contains(lines[1], "agent:support-bot stopped until ") || !strings.Contains(lines[1], "by alice@example.com: leaking tickets") {
			t.Errorf("summary line = %q", lines[1])
		}
		// In force in the store a Tower would check.
		m, _ := s.kills.Matcher()
		if sw, ok := m.Match(tollgate.Agent{ID: "support-bot"}, "t", time.Now()); !ok || sw.ID != id {
			t.Fatalf("switch %s not in force: %v %v", id, sw.ID, ok)
		}

		js := run("kill", "set", "--scope", "global", "--reason", "all stop", "--format", "json").want(t, exitOK)
		var global struct {
			KillSwitch struct {
				ID        string  `json:"id"`
				Scope     string  `json:"scope"`
				ExpiresAt *string `json:"expires_at"`
			} `json:"kill_switch"`
		}
		if err := json.Unmarshal([]byte(js.stdout), &global); err != nil || global.KillSwitch.Scope != "global" || global.KillSwitch.ExpiresAt != nil {
			t.Fatalf("set --format json: %+v, %v\n%s", global, err, js.stdout)
		}
		run("kill", "list").want(t, exitOK).contains(t, "ID  ", id+"  agent:support-bot", global.KillSwitch.ID+"  global", "lifted", "all stop")

		run("kill", "lift", id, "--reason", "fixed").want(t, exitOK).contains(t, "lifted kill switch "+id)
		run("kill", "lift", id).want(t, exitFailed).oneLineErr(t, "refused: not_found")
		if out := run("kill", "list").want(t, exitOK); strings.Contains(out.stdout, id) {
			t.Errorf("a lifted switch is listed:\n%s", out.stdout)
		}
	})
}

func TestKillErrors(t *testing.T) {
	s := startAdmin(t)
	flags := s.flags("connect")
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no subcommand": {[]string{"kill"}, exitUsage, "missing subcommand"},
		"no scope":      {[]string{"kill", "set", "--reason", "r"}, exitUsage, "--scope is required"},
		"no reason":     {[]string{"kill", "set", "--scope", "global"}, exitUsage, "--reason is required"},
		"zero ttl":      {[]string{"kill", "set", "--scope", "global", "--reason", "r", "--ttl", "0s"}, exitUsage, "--ttl must be positive"},
		"bad scope":     {[]string{"kill", "set", "--scope", "team:x", "--reason", "r"}, exitFailed, "refused: invalid_argument"},
		"extra arg":     {[]string{"kill", "set", "x", "--scope", "global", "--reason", "r"}, exitUsage, "no arguments"},
		"lift no id":    {[]string{"kill", "lift"}, exitUsage, "one argument, the kill switch id"},
	} {
		t.Run(name, func(t *testing.T) {
			cli(t, nil, append(tc.args, flags...)...).want(t, tc.code).oneLineErr(t, tc.msg)
		})
	}
	// Not an admin.
	bot := []string{"--addr", s.connectAddr, "--insecure", "--token-file", s.botToken}
	cli(t, nil, append([]string{"kill", "set", "--scope", "global", "--reason", "r"}, bot...)...).want(t, exitFailed).oneLineErr(t, "permission_denied")
	if list, _ := s.kills.List(context.Background(), time.Now()); len(list) != 0 {
		t.Errorf("refused sets stored switches: %v", list)
	}
}
