// Command tickets is Tollgate's gRPC and Connect example: a help desk whose
// every RPC is a tool call that an AI agent makes, gated by Tollgate
// without a line of gating code in the handlers.
//
// One server serves the tickets.v1.TicketService over gRPC (grpc-go) and
// Connect (connect-go) on one port, HTTP/2 without TLS (h2c), with gRPC
// reflection and health. Both stacks run the same Tollgate pipeline
// (package tower): signed agent tokens (identity.NewJWTVerifier, sent by
// the clients' identity.Signer), an in-memory circuit breaker, the
// rate limits and network policy of policy.yaml, the tool manifest
// manifest.yaml, a callback approver standing in for a human, deferred
// approvals and grants, and a hash-chained audit log. Deletions wait for a
// human, who decides through Tollgate's admin API (package admin), served
// on a second port (--admin, default 127.0.0.1:8081) to admins only.
//
//	go run ./examples/tickets               # the narrated demo, then exit
//	go run ./examples/tickets --serve :8080 # serve until interrupted
//	go run ./examples/tickets --serve :8080 --jwks agent.jwks.json
//	go run ./examples/tickets --serve :8080 --redis 127.0.0.1:6379 # replicas share state
//	go run ./cmd/tollgate approvals list --addr 127.0.0.1:8081 --insecure
//
// The demo starts the server on a free loopback port, calls it with a
// grpc-go client and a connect-go client, approves a deletion through the
// admin API, prints one table row per call
// (what Tollgate decides, the status the client got), verifies the audit
// chain and exits 0, or 1 when a call did not end as expected. See
// README.md.
//
// The files: server.go is the service (it knows nothing of Tollgate),
// wiring.go builds the pipeline, the server and the admin API, stores.go
// keeps approvals, grants and kill switches in memory or Redis, client.go
// the agent's and the admin's clients, demo.go the narrated calls.
package main

// The service code in gen/ is generated for grpc-go and, with the "simple"
// signatures, for connect-go; `make generate` runs this line.
//go:generate protoc -I ../../specs/proto --go_out=../.. --go_opt=module=github.com/tollgate-go/tollgate --go-grpc_out=../.. --go-grpc_opt=module=github.com/tollgate-go/tollgate,require_unimplemented_servers=false --connect-go_out=../.. --connect-go_opt=module=github.com/tollgate-go/tollgate,simple ../../specs/proto/tickets/v1/tickets.proto
