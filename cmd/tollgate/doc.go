// Command tollgate is how people find policy mistakes before production:
//
//	tollgate test-policy POLICY --scenarios FILE [-q] [--strict] [--format text|json|junit] [--manifest M]
//	tollgate POLICY --scenarios FILE [-q]          # Tollgate 1.4.0's form, same behaviour
//	tollgate check --policy P [--manifest M] --call FILE|- [--explain] [--format text|json]
//	tollgate lint [--policy P]... [--manifest M]... [--format text|json] [--strict]
//	tollgate keygen --out PREFIX [--force]
//	tollgate identity mint --key PRIV --agent ID --version V --owner O --aud X [--delegated-by A,B] [--meta K=V]... [--ttl 10m] [--iss I] [--kid K]
//	tollgate identity inspect --jwks FILE [--aud X] [--iss I] [--skew D] TOKEN|-
//	tollgate manifest sign FILE (--key PRIV | --hmac-secret-env VAR) [--out SIG]
//	tollgate manifest verify FILE [--sig SIG] (--pub PUB | --jwks FILE | --hmac-secret-env VAR)
//	tollgate manifest hash FILE
//	tollgate audit verify FILE [--pub PREFIX.pub | --jwks FILE]
//	tollgate audit anomalies FILE [--window 5m] [--z 3] [--min-samples 10] [--baseline-interval 1m] [--cooldown D] [--format text|json]
//	tollgate replay AUDIT.jsonl --policy P [--manifest M] [--format text|json|junit] [--fail-on-change]
//	tollgate approvals list|show ID|approve ID [--note N] [--grant-ttl D --grant-max-uses N]|deny ID [--note N] --addr HOST:PORT [--protocol connect|grpc] [--insecure] [--token-file F]
//	tollgate grants add --agent A --tool T --ttl D [--effect E] [--action X] [--resource-type R] [--max-uses N] [--reason R]|list [--agent A] [--all]|revoke ID --addr HOST:PORT
//	tollgate kill set --scope SCOPE --reason R [--ttl D]|list|lift ID [--reason R] --addr HOST:PORT
//	tollgate version
//
// test-policy runs Tollgate 1.4.0 scenario files (its format, defaults,
// messages and report layout, so CI log searches keep working) and is the CI
// step; check shows what the whole gateway pipeline would decide for one
// call and why; lint finds rules that are shadowed, can never match or will
// be downgraded; keygen and manifest sign/verify implement the manifest
// release flow with Ed25519 (and Tollgate's HMAC .sig for compatibility);
// identity mint and inspect sign and check the agent tokens that
// identity.NewJWTVerifier accepts; audit verify checks an audit log's hash
// chain and, with a key, its signed checkpoints; audit anomalies runs the
// anomaly detector (package anomaly) over a log by its records' times;
// approvals and grants talk to a running gateway's admin API
// (package admin) with an admin token from --token-file or
// $TOLLGATE_ADMIN_TOKEN.
//
// Exit codes: 0 success; 1 a scenario failed, lint found errors, a signature,
// audit chain or agent token does not verify, audit anomalies found an
// alert, the admin API refused the
// request; 2 usage, configuration or connection error; check exits 3 for
// ASK and 4 for DENY.
//
// Tollgate 1.4.0's console script was broken as documented (its
// `tollgate test-policy ...` form was rejected), had no signing commands,
// and printed a traceback for YAML errors. Here every bad input — a missing
// file, a directory, an empty or binary file, a file over its size limit
// (8 MiB for policies and manifests, 32 MiB for scenario files), deeply
// nested or alias-bomb YAML — ends with one line on stderr and exit 2.
// Secrets (HMAC keys) are only read from environment variables, never from
// flag values, which leak into shell history and process listings.
//
// See docs/CLI.md for every command with examples.
package main
