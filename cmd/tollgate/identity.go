package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

func (a *app) identityCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Mint and inspect signed agent tokens",
		Long: `identity mints the signed agent tokens that identity.NewJWTVerifier checks, and
inspects them: the claims, the delegation chain, and why a token is refused.

  mint     sign a short-lived token for an agent with a keygen key
  inspect  verify a token against a JWKS and print what it proves`,
		Example: `  tollgate keygen --out agent
  TOKEN=$(tollgate identity mint --key agent.key --agent worker-agent --version 2.1.0 \
    --owner ops-team --delegated-by orchestrator,router --aud tickets --ttl 10m)
  tollgate identity inspect --jwks agent.jwks.json --aud tickets "$TOKEN"`,
		Args: args(0, "a subcommand (mint or inspect)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(a.stderr)
			_ = cmd.Usage()
			return exit(exitUsage)
		},
	}
	cmd.AddCommand(a.identityMintCmd(), a.identityInspectCmd())
	return cmd
}

func (a *app) identityMintCmd() *cobra.Command {
	var (
		keyPath, agentID, version, owner, audience, issuer, kid, sid string
		delegatedBy, meta                                            []string
		ttl, maxTTL                                                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "mint --key PRIV --agent ID --version V --owner O --aud X [--delegated-by A,B] [--meta KEY=VALUE]... [--sid S] [--ttl 10m] [--max-ttl 24h] [--iss I] [--kid K]",
		Short: "Print a signed, short-lived agent token",
		Long: `mint signs an agent token (EdDSA) with an Ed25519 private key in PKCS#8 PEM,
such as tollgate keygen's PREFIX.key, and prints it.

The token says who the agent is (sub, ver, owner), who delegated to it
(--delegated-by, root first, carried as nested RFC 8693 "act" claims), which
service it is for (aud) and, optionally, who issued it (iss); it expires
after --ttl. --ttl may not exceed --max-ttl (default 24h), the longest
lifetime a verifier accepts by default: a longer token needs --max-ttl
here and the same maximum on the server (identity.WithMaxTokenLifetime,
inspect --max-ttl). --meta adds signed agent metadata (the "meta" claim), which
policies read as agent.environment / agent.role and the admin API reads as
the admin role (--meta role=admin). --sid names the session the token is
for (the "sid" claim): a kill switch of scope session:S stops its calls
(tollgate kill set --scope session:S). The kid is derived from the key as keygen derives it, so the
token verifies against keygen's PREFIX.jwks.json, unless --kid names another.`,
		Example: `  tollgate identity mint --key agent.key --agent worker-agent --version 2.1.0 --owner ops-team \
    --delegated-by orchestrator,router --aud tickets --ttl 10m
  tollgate identity mint --key admin.key --agent alice --version 1 --owner sec-team \
    --meta role=admin --aud tollgate-admin --ttl 15m`,
		Args: args(0, "no arguments (flags only)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxTTL <= 0 {
				return usageError(cmd, fmt.Sprintf("--max-ttl must be positive, got %v", maxTTL))
			}
			if ttl <= 0 || ttl > maxTTL {
				return usageError(cmd, fmt.Sprintf("--ttl must be between 1s and --max-ttl %v, got %v (verifiers refuse tokens that live longer than their maximum, %v by default)",
					maxTTL, ttl, identity.DefaultMaxTokenLifetime))
			}
			for _, d := range delegatedBy {
				if d == "" {
					return usageError(cmd, "--delegated-by has an empty agent id")
				}
			}
			priv, err := readPrivateKey(keyPath)
			if err != nil {
				return fail(exitUsage, err)
			}
			if kid == "" {
				kid = identity.KeyID(priv.Public().(ed25519.PublicKey))
			}
			agent := tollgate.Agent{ID: agentID, Version: version, Owner: owner, DelegatedBy: delegatedBy, SessionID: sid}
			for _, kv := range meta {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageError(cmd, fmt.Sprintf("--meta %q: want KEY=VALUE", kv))
				}
				if _, dup := agent.Metadata.Get(k); dup {
					return usageError(cmd, fmt.Sprintf("--meta %s given twice", k))
				}
				agent.Metadata = append(agent.Metadata, tollgate.Field{Key: k, Value: v})
			}
			opts := []identity.SignerOption{identity.WithAudience(audience), identity.WithTTL(ttl), identity.WithMaxTokenLifetime(maxTTL)}
			if issuer != "" {
				opts = append(opts, identity.WithIssuer(issuer))
			}
			signer, err := identity.NewSigner(priv, kid, agent, opts...)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			token, err := signer.Token(cmd.Context())
			if err != nil {
				return fail(exitUsage, err)
			}
			fmt.Fprintln(a.stdout, token)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "Ed25519 private key, PKCS#8 PEM (`PRIV`, such as keygen's PREFIX.key)")
	f.StringVar(&agentID, "agent", "", "agent id (`ID`), the token's sub")
	f.StringVar(&version, "version", "", "agent version (`V`)")
	f.StringVar(&owner, "owner", "", "agent owner (`O`)")
	f.StringSliceVar(&delegatedBy, "delegated-by", nil, "delegation chain, root first (`A,B`)")
	f.StringArrayVar(&meta, "meta", nil, "signed agent metadata (`KEY=VALUE`), repeatable; e.g. role=admin")
	f.StringVar(&sid, "sid", "", "session id (`S`), the token's sid claim; kill switches of scope session:S stop it")
	f.DurationVar(&ttl, "ttl", identity.DefaultTokenTTL, "lifetime of the token")
	f.DurationVar(&maxTTL, "max-ttl", identity.DefaultMaxTokenLifetime, "longest --ttl allowed; the server must accept it too (`D`)")
	f.StringVar(&audience, "aud", "", "audience: the service the token is for (`X`)")
	f.StringVar(&issuer, "iss", "", "issuer (`I`), optional")
	f.StringVar(&kid, "kid", "", "key id (`K`); default: derived from the key as keygen does")
	for _, name := range []string{"key", "agent", "version", "owner", "aud"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func (a *app) identityInspectCmd() *cobra.Command {
	var (
		jwksPath, audience, issuer string
		skew, maxTTL               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "inspect --jwks FILE [--aud X] [--iss I] [--skew D] [--max-ttl D] TOKEN",
		Short: "Verify an agent token and print its claims and delegation chain",
		Long: `inspect verifies TOKEN ("-" reads it from stdin, which keeps it out of shell
history) exactly as a server's identity.NewJWTVerifier does, with the keys of
a JWKS file (tollgate keygen's PREFIX.jwks.json, or an issuer's), and prints
the agent, the delegation chain (root first) and the other claims.

Without --aud any audience is accepted and shown; a server always checks it.
--max-ttl is the longest lifetime accepted (exp − iat, or exp − now without
iat; default 24h, as identity.NewJWTVerifier), for tokens of an issuer that
mints longer ones.

Exit codes: 0 valid, 1 invalid (the reason is printed), 2 usage error or an
unreadable JWKS.`,
		Example: `  tollgate identity inspect --jwks agent.jwks.json --aud tickets "$TOKEN"
  echo "$TOKEN" | tollgate identity inspect --jwks agent.jwks.json -`,
		Args: args(1, "one TOKEN (or - for stdin)"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if skew < 0 {
				return usageError(cmd, fmt.Sprintf("--skew must not be negative, got %v", skew))
			}
			if maxTTL <= 0 {
				return usageError(cmd, fmt.Sprintf("--max-ttl must be positive, got %v", maxTTL))
			}
			token := argv[0]
			if token == "-" {
				data, err := io.ReadAll(io.LimitReader(a.stdin, identity.MaxTokenSize+2))
				if err != nil {
					return fail(exitUsage, fmt.Errorf("reading the token from stdin: %w", err))
				}
				token = strings.TrimSpace(string(data))
			}
			keys, err := identity.NewJWKSFile(jwksPath)
			if err != nil {
				return fail(exitUsage, err)
			}
			opts := []identity.JWTOption{
				identity.WithAlgorithms(identity.AlgEdDSA, identity.AlgES256), // each key still verifies only its own
				identity.WithSkew(skew), identity.WithMaxTokenLifetime(maxTTL), identity.WithTokenCacheSize(0),
			}
			if audience != "" {
				opts = append(opts, identity.WithAudience(audience))
			} else {
				opts = append(opts, identity.WithAnyAudience())
			}
			if issuer != "" {
				opts = append(opts, identity.WithIssuer(issuer))
			}
			v, err := identity.NewJWTVerifier(keys, opts...)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			claims, err := v.VerifyToken(context.WithoutCancel(cmd.Context()), token)
			if err != nil {
				return fail(exitFailed, fmt.Errorf("token is invalid: %v", err))
			}
			printClaims(a.stdout, claims, time.Now())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&jwksPath, "jwks", "", "JWKS `FILE` with the verification keys")
	f.StringVar(&audience, "aud", "", "required audience (`X`); default: any")
	f.StringVar(&issuer, "iss", "", "required issuer (`I`); default: any")
	f.DurationVar(&skew, "skew", identity.DefaultSkew, "clock skew tolerated on exp, nbf and iat (`D`)")
	f.DurationVar(&maxTTL, "max-ttl", identity.DefaultMaxTokenLifetime, "longest token lifetime accepted, exp − iat (`D`)")
	_ = cmd.MarkFlagRequired("jwks")
	return cmd
}

// printClaims writes what a verified token proves, one "name: value" line
// per claim, the chain root first.
func printClaims(w io.Writer, c identity.Claims, now time.Time) {
	a := c.Agent
	chain := append(append([]string(nil), a.DelegatedBy...), a.ID)
	fmt.Fprintf(w, "valid: signed by key %s (%s)\n", c.KeyID, c.Algorithm)
	fmt.Fprintf(w, "agent_id:     %s\n", a.ID)
	fmt.Fprintf(w, "version:      %s\n", a.Version)
	fmt.Fprintf(w, "owner:        %s\n", a.Owner)
	if a.SessionID != "" {
		fmt.Fprintf(w, "session_id:   %s\n", a.SessionID)
	}
	if a.IsDelegated() {
		fmt.Fprintf(w, "delegated_by: %s (root first)\n", strings.Join(a.DelegatedBy, ", "))
	} else {
		fmt.Fprintf(w, "delegated_by: none (direct call)\n")
	}
	fmt.Fprintf(w, "chain:        %s\n", strings.Join(chain, " → "))
	if len(a.Metadata) > 0 {
		meta, _ := a.Metadata.MarshalJSON()
		fmt.Fprintf(w, "metadata:     %s\n", meta)
	}
	fmt.Fprintf(w, "issuer:       %s\n", orNone(c.Issuer))
	fmt.Fprintf(w, "audience:     %s\n", strings.Join(c.Audience, ", "))
	fmt.Fprintf(w, "issued_at:    %s\n", timeOrNone(c.IssuedAt))
	fmt.Fprintf(w, "not_before:   %s\n", timeOrNone(c.NotBefore))
	fmt.Fprintf(w, "expires_at:   %s (%s)\n", c.ExpiresAt.UTC().Format(time.RFC3339), expiry(c.ExpiresAt, now))
	fmt.Fprintf(w, "jti:          %s\n", orNone(c.ID))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func timeOrNone(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339)
}

// expiry says how long a token has left (or, within the skew, how long
// ago it expired).
func expiry(exp, now time.Time) string {
	if d := exp.Sub(now).Round(time.Second); d > 0 {
		return "expires in " + d.String()
	}
	return "expired " + now.Sub(exp).Round(time.Second).String() + " ago, within the skew"
}
