// Package bench holds what the programs under cmd share.
package bench

import (
	"fmt"

	"github.com/tollgate-go/tollgate/audit"
)

// DurabilityFlag turns a -durability flag into audit options: "" keeps
// audit.OpenFile's default, otherwise a mode audit.ParseDurability knows.
// The name returned is for the programs' headers.
func DurabilityFlag(s string) (opts []audit.Option, name string, err error) {
	if s == "" {
		// The zero Durability is what OpenFile uses without the option.
		return nil, "default (" + audit.Durability{}.String() + ")", nil
	}
	d, err := audit.ParseDurability(s)
	if err != nil {
		return nil, "", fmt.Errorf("-durability: %w", err)
	}
	return []audit.Option{audit.WithDurability(d)}, d.String(), nil
}
