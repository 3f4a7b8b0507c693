package redisstore

import (
	"strconv"
	"strings"
)

// luaBefore is prepended to scripts that compare time keys. Lua's string
// "<" follows the server's locale (Redis sets LC_COLLATE from the
// environment), so time keys are compared byte by byte instead.
const luaBefore = `
local function before(a, b)
  if a == b then return false end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
`

// luaStrings declares the Lua table name holding items, so that a script
// and the Go code decoding its reply share one list of field names. Items
// must not contain a quote or a backslash.
func luaStrings(name string, items []string) string {
	return "local " + name + " = {'" + strings.Join(items, "', '") + "'}\n"
}

// luaIDAt declares where the grant ID starts in an index member (a time
// key followed by the ID).
var luaIDAt = "local ID_AT = " + strconv.Itoa(timeKeyLen+1) + "\n"
