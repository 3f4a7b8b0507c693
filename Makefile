# Tollgate for Go. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: test vet unit redis bench bench-test fuzz generate example

# test: vet, then every test under the race detector. Redis-backed tests need
# a redis-server binary; when one is (or can be) installed they are required
# (TOLLGATE_REQUIRE_REDIS=1), so CI never skips them silently.
test: vet
	@if command -v redis-server >/dev/null 2>&1 || ./.ci/install-redis; then \
		echo "redis-server: $$(command -v redis-server) (Redis tests required)"; \
		TOLLGATE_REQUIRE_REDIS=1 $(GO) test -race -timeout 15m ./...; \
	else \
		echo "redis-server unavailable: Redis tests will skip"; \
		$(GO) test -race -timeout 15m ./...; \
	fi
	$(MAKE) bench-test

vet:
	$(GO) vet ./...

unit:
	$(GO) test -short ./...

# The bench module (bench/, its own go.mod) keeps OPA and the load tools out
# of the library's dependencies; ./... at the root never descends into it.
# It builds against the library in this tree (replace => ../), so a library
# dependency added later is resolved here too (-mod=mod) instead of failing
# on a missing go.sum line.
BENCHMOD = -mod=mod

# bench-test: the bench module's tests (OPA and package policy decide alike;
# the pipeline and gRPC load harnesses work), never its benchmarks. The race
# detector covers the harnesses; the OPA comparison runs without it, since
# OPA under -race only adds minutes to compile.
bench-test:
	cd bench && $(GO) vet $(BENCHMOD) ./...
	cd bench && $(GO) test $(BENCHMOD) -race -timeout 10m ./grpcload/... ./pipeline/...
	cd bench && $(GO) test $(BENCHMOD) -timeout 10m ./vsopa/...

# bench: the library's benchmarks, then the bench module's: OPA against
# package policy, the security_hardened pipeline (benchmark and program,
# µs/call) and the gRPC load loop, gated against bare (calls/s, p50/p99).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd bench && $(GO) test $(BENCHMOD) -run '^$$' -bench . -benchmem ./...
	cd bench && $(GO) run $(BENCHMOD) ./cmd/pipeline
	cd bench && $(GO) run $(BENCHMOD) ./cmd/grpcload

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

generate:
	./scripts/generate.sh

example:
	$(GO) run ./examples/tickets
