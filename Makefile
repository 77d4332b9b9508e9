# idmesh — see README.md. Every target works on a fresh machine with Go.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/idmesh
HOME_DIR ?= ./data
GOLANGCI := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
FUZZTIME ?= 30s

.PHONY: all build run testnet test test-long mutation bench fuzz interop browser lint verify clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/idmesh

## run: a single-validator network with every HTTP service on 127.0.0.1:8080, data under ./data
run: build
	./$(BIN) dev --home $(HOME_DIR)

## testnet: four validators as separate processes on loopback (HTTP on 127.0.0.1:27000-27003)
TESTNET_DIR ?= ./testnet
testnet: build
	@test -d $(TESTNET_DIR)/node0 || ./$(BIN) testnet init --validators 4 --dir $(TESTNET_DIR) --base-port 27000
	./$(BIN) testnet start --dir $(TESTNET_DIR)

# CLEANENV runs a command without the caller's IDMESH_* variables: what
# `make test` runs never depends on a developer's exported configuration.
CLEANENV = env $$(env | sed -n 's/^\(IDMESH_[A-Za-z0-9_]*\)=.*/-u \1/p')

## test: unit, property, fuzz-seed and end-to-end tests, with the race detector; then
## the tests that drive goleveldb through failed compactions, whose error path races in
## goleveldb itself (TestNoRace..., registry/leveldb/tablebuf_norace_internal_test.go),
## without it
test:
	$(GO) vet ./...
	$(CLEANENV) $(GO) test -race -count=1 -timeout 25m ./...
	@n=$$($(GO) test -list '^TestNoRace' ./registry/leveldb/ | grep -c '^TestNoRace'); \
		if [ "$$n" -lt 2 ]; then echo "make test: $$n TestNoRace tests in registry/leveldb, want 2"; exit 1; fi
	$(CLEANENV) $(GO) test -count=1 -timeout 5m -run '^TestNoRace' ./registry/leveldb/

## test-long: make test, then 100,000 consensus simulation seeds and the longer crash
## runs (without -race, on every core; hours on 2 cores)
test-long: test
	IDMESH_LONG=1 $(GO) test -count=1 -timeout 12h ./node/consensus/... ./registry/...

## mutation: swap in each known-bad variant of the consensus engine (the catalogue in
## node/consensus/mutation_test.go) and require the randomized simulation alone, with the
## seeds make test runs, to catch it; prints "caught NAME" or "SURVIVED NAME" per variant
mutation:
	$(CLEANENV) $(GO) test -tags mutation -count=1 -timeout 15m -run '^TestMutants$$' -v ./node/consensus/

## bench: the benchmarks of docs/benchmarks.md (no -race). The first run builds a
## 1,000,000-DID store under .bench/ (about 5 minutes), and pruned stores of 100,000 and
## 1,000,000 DIDs and of 300,000 for the trend (BenchmarkStoragePruned, about 40 minutes),
## and chains of 100,000 and 300,000 DIDs for BenchmarkStateSyncDIDs (about 8 minutes), that
## later runs reuse. State sync runs on its own lines (in process, then over libp2p on
## loopback): it reads the stores of other packages' benchmarks, which LevelDB's lock keeps
## from two packages' benchmarks at once.
BENCH_DIR ?= $(CURDIR)/.bench
bench:
	IDMESH_BENCH_DIR=$(BENCH_DIR) $(GO) test -run '^$$' -bench . -skip 'StateSyncDIDs|StateSyncNetwork' -benchmem -count 1 -timeout 90m ./registry/... ./did/... ./credential/... ./issuer/... ./verifier/... ./api/... ./node/...
	IDMESH_BENCH_DIR=$(BENCH_DIR) $(GO) test -run '^$$' -bench 'StateSyncDIDs' -benchtime 1x -count 1 -timeout 120m ./registry/snapshot/
	IDMESH_BENCH_DIR=$(BENCH_DIR) $(GO) test -run '^$$' -bench 'StateSyncNetwork' -benchtime 1x -count 1 -timeout 60m ./node/
	IDMESH_BENCH_NET=1 $(GO) test -run '^$$' -bench 'Network|Revocations|VerifyHTTPProcess' -benchtime 1x -timeout 20m ./cmd/idmesh/

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## interop: credential/interop against the reference JavaScript implementations (node and
## the npm registry; versions pinned by credential/interop/package-lock.json): Data Integrity
## and VC-JWT both ways, RDFC-1.0 byte for byte, status lists bit for bit, and Go's verify speed against theirs
interop:
	credential/interop/ensure-node.sh
	cd credential/interop && npm ci --no-audit --no-fund
	IDMESH_INTEROP=1 $(GO) test -count=1 -v ./credential/interop/

## browser: the web UI in headless Chromium (Debian's chromium, installed when missing) driven
## by chromedp against a real idmesh dev; screenshots are kept in .artifacts/browser/
browser:
	cmd/idmesh/ensure-chromium.sh
	IDMESH_BROWSER=1 $(GO) test -count=1 -timeout 5m -run '^TestBrowser' -v ./cmd/idmesh/
	@echo "browser: screenshots in $(CURDIR)/.artifacts/browser/"; ls -1 .artifacts/browser/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run $(GOLANGCI) run ./...

verify: lint
	$(GO) mod tidy -diff

clean:
	rm -rf bin
