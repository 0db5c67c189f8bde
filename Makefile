# parity: the two commands that matter are `make demo` and `make test`.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/parity-eval/parity/jobs.Version=$(VERSION)
TOOLS    := $(CURDIR)/.tools
export PATH := $(TOOLS)/bin:$(PATH)

.PHONY: all build test test-short demo demo-s3 bench bench-go bench-duckdb bench-reconcile lint tools fuzz test-duckdb soak image golden clean

all: build

## build: compile bin/parity (static, cgo-free)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/parity ./cmd/parity

## tools: install the Go-built test tools (versitygw S3 server, flagd's evaluation engine) into .tools/
tools:
	./scripts/install-tools.sh

## test: every test, against real components (S3 server, subprocesses, flagd's engine, browser),
## every fuzz target's committed seed corpus (as ordinary tests), and the DuckDB module
## (Parquet written by DuckDB, parity vs DuckDB counts). Exploratory fuzzing is `make fuzz`:
## Go's fuzzing engine can fail a run with "context deadline exceeded" when -fuzztime ends
## while it is minimizing a new input, which made CI fail on no bug at all.
test: tools build
	$(GO) vet ./...
	$(MAKE) --no-print-directory test-duckdb
	$(GO) test -count=1 -timeout 14m ./...

## test-short: unit tests only, no external tools
test-short:
	$(GO) test -short ./...

## demo: generate the synthetic shadow log, evaluate every window, print verdicts
demo: build
	./bin/parity demo --dir demo-data

## demo-s3: the demo with logs, labels and outputs on a local S3 server (versitygw)
demo-s3: tools build
	./scripts/demo-s3.sh demo-data

## soak: the kill test with 1000 seeded SIGKILLs (PARITY_KILL_SEED=N explores other kill points)
soak: tools
	PARITY_KILL_ITERATIONS=1000 $(GO) test -count=1 -timeout 60m -run 'TestKillRuns' -v ./jobs/

## bench: the Go benchmarks, then parity vs DuckDB on a generated 10M-row log (rows/s, peak RSS, ratio)
bench: bench-go bench-duckdb

## bench-go: Go benchmarks for the scan, scorers, eval's batch path and statistics
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-duckdb: full parity evaluation vs DuckDB on a generated 10M-row log (BENCH_ROWS=50000000 for the large one); fails unless every count agrees
BENCH_ROWS ?= 10000000
bench-duckdb: build
	cd bench && $(GO) run ./cmd/parity-bench -rows $(BENCH_ROWS) -parity ../bin/parity

## test-duckdb: bench module tests (DuckDB-written Parquet read by parity; parity vs DuckDB on a small log); needs cgo
test-duckdb:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...

## fuzz: run each fuzz target briefly from its committed seed corpus (FUZZTIME each)
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./config
	$(GO) test -run '^$$' -fuzz '^FuzzParseLookup$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./scorers/jsonpath
	$(GO) test -run '^$$' -fuzz '^FuzzExtractJSON$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./scorers
	$(GO) test -run '^$$' -fuzz '^FuzzParseNumber$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./scorers
	$(GO) test -run '^$$' -fuzz '^FuzzCheckScanMutated$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./datasets
	$(GO) test -run '^$$' -fuzz '^FuzzScan$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./datasets

## bench-reconcile: reconciliation throughput and peak heap, in memory and spilling
bench-reconcile:
	$(GO) test -run XXX -bench Reconcile -benchtime 2x ./reconcile

## golden: regenerate the statistical reference values (needs /usr/bin/python3 with scipy, statsmodels)
golden:
	$(GO) test ./eval/stats -run TestGolden -update -count=1

## image: build the container image (needs a Docker engine)
image:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) -t parity:$(VERSION) .

clean:
	rm -rf bin demo-data demo-out demo-data-s3-out .s3data
