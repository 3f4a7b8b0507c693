package redisstore

import (
	"fmt"
	"strconv"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/grants"
)

// grantFields are the fields of a grant hash, in the order scripts and
// HMGET return them.
var grantFields = [...]string{
	"id", "agent", "effect", "tool", "action", "rtype",
	"expires", "created", "by", "reason", "max", "uses", "revoked",
}

// luaGrantFields declares grantFields as the Lua table FIELDS.
var luaGrantFields = luaStrings("FIELDS", grantFields[:])

// grantValues returns g as field/value pairs for HSET, in grantFields order.
func grantValues(g grants.Grant) []any {
	revoked := "0"
	if g.Revoked {
		revoked = "1"
	}
	return []any{
		"id", g.ID, "agent", g.AgentID, "effect", string(g.Effect), "tool", g.Tool, "action", g.Action, "rtype", g.ResourceType,
		"expires", timeKey(g.ExpiresAt), "created", timeKey(g.CreatedAt), "by", g.GrantedBy, "reason", g.Reason,
		"max", strconv.Itoa(g.MaxUses), "uses", strconv.Itoa(g.Uses), "revoked", revoked,
	}
}

// decodeGrant decodes the values of grantFields, in order, as HMGET or a
// script returned them.
func decodeGrant(vals []any) (grants.Grant, error) {
	if len(vals) != len(grantFields) {
		return grants.Grant{}, fmt.Errorf("redisstore: grant record has %d fields, want %d", len(vals), len(grantFields))
	}
	var f [len(grantFields)]string
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			return grants.Grant{}, fmt.Errorf("redisstore: grant record field %q is %T, want a string (record damaged?)", grantFields[i], v)
		}
		f[i] = s
	}
	g := grants.Grant{
		ID: f[0], AgentID: f[1], Effect: tollgate.Effect(f[2]), Tool: f[3], Action: f[4], ResourceType: f[5],
		GrantedBy: f[8], Reason: f[9], Revoked: f[12] == "1",
	}
	var err error
	bad := func(field string, e error) (grants.Grant, error) {
		return grants.Grant{}, fmt.Errorf("redisstore: grant %q: field %q: %w", g.ID, field, e)
	}
	if g.ExpiresAt, err = parseTimeKey(f[6]); err != nil {
		return bad("expires", err)
	}
	if g.CreatedAt, err = parseTimeKey(f[7]); err != nil {
		return bad("created", err)
	}
	if g.MaxUses, err = strconv.Atoi(f[10]); err != nil {
		return bad("max", err)
	}
	if g.Uses, err = strconv.Atoi(f[11]); err != nil {
		return bad("uses", err)
	}
	return g, nil
}
