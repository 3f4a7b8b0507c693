// Package redistest starts a real, throw-away redis-server for tests.
//
// Start runs the Debian redis-server binary on a free 127.0.0.1 port, with
// persistence off and a private temporary directory, waits until it answers
// PING and stops it when the test ends. Tests talk to a real server, not
// an emulation, because the stores' guarantees rest on Redis's own Lua and
// pub/sub semantics.
//
// Without the binary a test is skipped, so `go test ./...` works on a bare
// machine; with TOLLGATE_REQUIRE_REDIS=1 (set by `make test` and CI, after
// installing redis-server) it fails instead, so a missing server can never
// turn the Redis tests into silent skips.
package redistest
