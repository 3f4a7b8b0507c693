package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/admin/adminv1"
	"github.com/tollgate-go/tollgate/grants"
)

func TestGrantsCommands(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		s := startAdmin(t)
		flags := s.flags(protocol)
		run := func(args ...string) result { return cli(t, nil, append(args, flags...)...) }

		run("grants", "list").want(t, exitOK).contains(t, "no grants")
		add := run("grants", "add", "--agent", "hr-bot", "--tool", "api:*", "--effect", "delete", "--ttl", "1h",
			"--max-uses", "20", "--reason", "offboarding week", "--format", "json").want(t, exitOK)
		var created struct {
			Grant struct {
				ID        string `json:"id"`
				GrantedBy string `json:"granted_by"`
				MaxUses   int    `json:"max_uses"`
			} `json:"grant"`
		}
		if err := json.Unmarshal([]byte(add.stdout), &created); err != nil || created.Grant.ID == "" ||
			created.Grant.GrantedBy != "alice@example.com" || created.Grant.MaxUses != 20 {
			t.Fatalf("add: %+v, %v\n%s", created, err, add.stdout)
		}
		id := created.Grant.ID
		run("grants", "add", "--agent", "*", "--tool", "mcp:read_file", "--ttl", "10m").want(t, exitOK).
			contains(t, "* may call mcp:read_file until", "(active)")

		// The grant works, and list shows its use.
		if _, found, err := s.grants.Consume(context.Background(), tollgate.Agent{ID: "hr-bot"},
			tollgate.ToolRequest{Tool: "api:delete_user", Effect: tollgate.EffectDelete}, time.Now()); err != nil || !found {
			t.Fatalf("consume: %v %v", found, err)
		}
		run("grants", "list", "--agent", "hr-bot").want(t, exitOK).
			contains(t, id+"  hr-bot  api:*  delete  *       *         ", "1/20  active  alice@example.com")

		run("grants", "revoke", id, "--reason", "done").want(t, exitOK).contains(t, "revoked grant "+id, "(revoked)")
		run("grants", "revoke", id).want(t, exitFailed).oneLineErr(t, "refused: failed_precondition")
		run("grants", "revoke", "nope").want(t, exitFailed).oneLineErr(t, "refused: not_found")
		if out := run("grants", "list", "--agent", "hr-bot").want(t, exitOK); strings.Contains(out.stdout, id) {
			t.Errorf("a revoked grant is listed as active:\n%s", out.stdout)
		}
		run("grants", "list", "--all").want(t, exitOK).contains(t, id, "revoked", "mcp:read_file")
	})
}

func TestGrantsAddErrors(t *testing.T) {
	s := startAdmin(t)
	flags := s.flags("connect")
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no subcommand": {[]string{"grants"}, exitUsage, "missing subcommand"},
		"no agent":      {[]string{"grants", "add", "--tool", "t", "--ttl", "1h"}, exitUsage, "--agent is required"},
		"no tool":       {[]string{"grants", "add", "--agent", "a", "--ttl", "1h"}, exitUsage, "--tool is required"},
		"no ttl":        {[]string{"grants", "add", "--agent", "a", "--tool", "t"}, exitUsage, "--ttl is required"},
		"negative uses": {[]string{"grants", "add", "--agent", "a", "--tool", "t", "--ttl", "1h", "--max-uses", "-1"}, exitUsage, "--max-uses must not be negative"},
		"bad effect":    {[]string{"grants", "add", "--agent", "a", "--tool", "t", "--ttl", "1h", "--effect", "READ"}, exitFailed, "refused: invalid_argument"},
		"extra arg":     {[]string{"grants", "add", "x", "--agent", "a", "--tool", "t", "--ttl", "1h"}, exitUsage, "no arguments"},
		"revoke no id":  {[]string{"grants", "revoke"}, exitUsage, "one argument, the grant id"},
	} {
		t.Run(name, func(t *testing.T) {
			cli(t, nil, append(tc.args, flags...)...).want(t, tc.code).oneLineErr(t, tc.msg)
		})
	}
	if list, _ := s.grants.List(context.Background(), grants.Filter{IncludeInactive: true}); len(list) != 0 {
		t.Errorf("refused adds stored grants: %v", list)
	}
}

func TestGrantState(t *testing.T) {
	for want, g := range map[string]*adminv1.Grant{
		"revoked": {Revoked: true, Active: false},
		"active":  {Active: true},
		"used up": {MaxUses: 2, Uses: 2},
		"expired": {MaxUses: 2, Uses: 1},
	} {
		if got := grantState(g); got != want {
			t.Errorf("grantState(%v) = %q, want %q", g, got, want)
		}
	}
}
