package tower

import (
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate/netguard"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/ratelimit"
	"github.com/tollgate-go/tollgate/registry"
)

// Files names the configuration files of a Tower.
type Files struct {
	Policy   string // Tollgate policy YAML; its rate_limits: and network_policy: blocks configure those stages
	Manifest string // Tollgate manifest YAML; "" means no manifest (every tool unknown, so denied)
	// ManifestOptions verify the manifest's signature (registry.WithHMACKey,
	// registry.WithEd25519Key). With a key set, an unsigned or badly signed
	// manifest is refused.
	ManifestOptions []registry.Option
	// Clock is handed to the rate limiter (tests); nil means time.Now.
	Clock func() time.Time
}

// LoadFiles reads, verifies and compiles the configuration. Every error
// names the file, and for content errors the line and column.
func LoadFiles(f Files) (*Config, error) {
	pol, err := policy.Load(f.Policy)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Policy: pol}
	if f.Manifest != "" {
		if cfg.Manifest, err = registry.Load(f.Manifest, f.ManifestOptions...); err != nil {
			return nil, err
		}
	}
	if doc, node := pol.Section("rate_limits"); node != nil {
		rules, err := ratelimit.ParseRules(doc, node)
		if err != nil {
			return nil, err
		}
		var opts []ratelimit.Option
		if f.Clock != nil {
			opts = append(opts, ratelimit.WithClock(f.Clock))
		}
		lim, err := ratelimit.NewSlidingWindow(rules, opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: rate_limits: %w", f.Policy, err)
		}
		cfg.Limiter = lim
	}
	if doc, node := pol.Section("network_policy"); node != nil {
		nc, err := netguard.ParseConfig(doc, node)
		if err != nil {
			return nil, err
		}
		if cfg.Guard, err = netguard.New(nc); err != nil {
			return nil, fmt.Errorf("%s: network_policy: %w", f.Policy, err)
		}
	}
	return cfg, nil
}
