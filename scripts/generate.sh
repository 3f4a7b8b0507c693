#!/bin/sh
# Regenerates every committed generated file in the repository (`make
# generate`). Each package that holds generated code says how it is made in
# its own //go:generate line, so this script only makes sure the tools are
# there and runs them all:
#
#   internal/testproto  the shared test service (its generate.sh)
#   admin/adminv1       the admin API, tollgate.admin.v1 (its doc.go)
#   examples/tickets    the tickets example service (doc.go)
#
# Tools: protoc, from the system package manager (Debian/Ubuntu:
# `apt-get install -y protobuf-compiler`; macOS: `brew install protobuf`),
# and three protoc plugins, installed here with `go install` when missing or
# of another version. The plugin versions are pinned so that regenerating on
# another machine gives the same files: protoc-gen-go and
# protoc-gen-connect-go match the protobuf and connect versions in go.mod.
set -eu
cd "$(dirname "$0")/.."

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PROTOC_GEN_CONNECT_GO=connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1

# go install puts binaries in GOBIN, else GOPATH/bin: make sure that is on
# PATH for protoc to find the plugins.
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
PATH="$gobin:$PATH"
export PATH

if ! command -v protoc >/dev/null 2>&1; then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		echo "generate: installing protoc (apt-get install protobuf-compiler)"
		apt-get update -qq && apt-get install -y -qq protobuf-compiler
	else
		echo "generate: protoc not found. Install it first:" >&2
		echo "  Debian/Ubuntu: sudo apt-get install -y protobuf-compiler" >&2
		echo "  macOS:         brew install protobuf" >&2
		echo "  or a release:  https://github.com/protocolbuffers/protobuf/releases" >&2
		exit 1
	fi
fi

for tool in "protoc-gen-go $PROTOC_GEN_GO" \
	"protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC" \
	"protoc-gen-connect-go $PROTOC_GEN_CONNECT_GO"; do
	set -- $tool
	if ! "$1" --version 2>/dev/null | grep -q "${2##*@v}\$"; then
		echo "generate: installing $2"
		go install "$2"
	fi
	echo "generate: $1 $("$1" --version | sed "s/^$1 //")"
done

echo "generate: using $(protoc --version)"
go generate ./...
