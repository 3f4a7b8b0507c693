package tower

import (
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-go/tollgate/internal/yamlx"
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

// LoadError is the error LoadFiles returns: the file at fault and, for a
// content error, the line. Its message is the underlying error's.
type LoadError struct {
	File string
	Line int // 1-based; 0 when unknown
	Err  error
}

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// loadError wraps err, an error loading file, in a *LoadError.
func loadError(file string, err error) error {
	le := &LoadError{File: file, Err: err}
	if ye := (*yamlx.Error)(nil); errors.As(err, &ye) {
		le.Line = ye.Line
	}
	return le
}

// LoadFiles reads, verifies and compiles the configuration. Every error
// is a *LoadError and names the file, and for content errors the line and
// column.
func LoadFiles(f Files) (*Config, error) {
	cfg, err := loadPolicy(f)
	if err != nil {
		return nil, loadError(f.Policy, err)
	}
	if f.Manifest != "" {
		if cfg.Manifest, err = registry.Load(f.Manifest, f.ManifestOptions...); err != nil {
			return nil, loadError(f.Manifest, err)
		}
	}
	return cfg, nil
}

// loadPolicy loads the policy and the stages it configures.
func loadPolicy(f Files) (*Config, error) {
	pol, err := policy.Load(f.Policy)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Policy: pol}
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
