#!/bin/sh
# Regenerates the shared test service (package testv1) from
# specs/proto/tollgate/test/v1/tool.proto for grpc-go and connect-go.
# Needs protoc and the plugins on PATH:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@latest
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@latest
#   go install connectrpc.com/connect/cmd/protoc-gen-connect-go@latest
set -eu
cd "$(dirname "$0")/../.."
protoc -I specs/proto \
	--go_out=. --go_opt=module=github.com/tollgate-go/tollgate \
	--go-grpc_out=. --go-grpc_opt=module=github.com/tollgate-go/tollgate \
	--connect-go_out=. --connect-go_opt=module=github.com/tollgate-go/tollgate \
	specs/proto/tollgate/test/v1/tool.proto
