# SpendOps — see README.md. Every target works on a fresh machine with Go.
GO        ?= go
BIN       := bin/spendops
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/spendops/spendops/internal/buildinfo.Version=$(VERSION)
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2

.PHONY: build run test lint unit race bench bench-quick bench-micro compat clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/spendops

run: build
	./$(BIN) serve

# test = linters + every unit/integration test (fuzz seeds included: go test
# runs each Fuzz target's seed corpus as ordinary tests).
test: lint unit race

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 15m ./...

# The concurrent parts again under the race detector.
race:
	$(GO) test -race -count=1 -timeout 15m ./internal/proxy/ ./internal/keys/ ./internal/server/ ./internal/pipeline/ ./internal/ledger/ ./internal/sse/ ./cmd/spendops/

# Loopback benchmark: direct vs a bare Go reverse proxy vs SpendOps vs the
# Portkey gateway, with ratios, noise and PASS/MISS per goal (bench/README.md).
bench:
	$(GO) run ./bench/cmd/bench

bench-quick:
	$(GO) run ./bench/cmd/bench -quick

# Micro-benchmarks of the hot paths (each reports its own baseline).
bench-micro:
	$(GO) test -run '^$$' -bench AddedLatency -benchtime 5000x ./internal/proxy/
	$(GO) test -run '^$$' -bench 'Evaluate' -benchmem ./internal/policy/
	$(GO) test -run '^$$' -bench 'Ingest' -benchtime=20000x ./internal/pipeline/

# Real SDKs (Python and Node, pinned) through SpendOps to a scripted upstream;
# installs its own dependencies into compat/.venv and compat/node/node_modules.
compat: build
	bash compat/run.sh

clean:
	rm -rf bin
