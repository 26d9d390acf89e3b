# SpendOps — see README.md. Every target works on a fresh machine with Go.
GO        ?= go
BIN       := bin/spendops
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/spendops/spendops/internal/buildinfo.Version=$(VERSION)
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2

.PHONY: build run test lint unit fuzz-seeds bench bench-quick compat clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/spendops

run: build
	./$(BIN) serve

# test = linters + every unit/integration test (fuzz seeds included: go test
# runs each Fuzz target's seed corpus as ordinary tests).
test: lint unit

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench AddedLatency -benchtime 5000x ./internal/proxy/

clean:
	rm -rf bin
