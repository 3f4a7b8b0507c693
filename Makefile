# Tollgate for Go. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: test vet unit redis bench fuzz generate example

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

vet:
	$(GO) vet ./...

unit:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

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
