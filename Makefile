# Kindling: run `make help` for the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

BIN      ?= bin
GO       ?= go
DEV_DIR  ?= $(CURDIR)/.dev
PKGS     := ./...
export KINDLING_DEV_DIR := $(DEV_DIR)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build kindling (CLI) and kindling-worker into ./bin
	$(GO) build -o $(BIN)/kindling ./starter
	$(GO) build -o $(BIN)/kindling-worker ./worker

.PHONY: test
test: dev-up ## Start the local stack if needed, then run every test (unit and end-to-end)
	KUBECONFIG=$(DEV_DIR)/kubeconfig TEMPORAL_ADDRESS=127.0.0.1:7233 KINDLING_E2E=1 \
		$(GO) test -count=1 -timeout 30m $(PKGS)

.PHONY: unit
unit: ## Run the unit tests only (no stack needed)
	$(GO) test -count=1 $(PKGS)

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK ?= go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, Temporal's workflowcheck (determinism of workflow code)
	@out=$$(gofmt -l . | grep -v '^dev/tools/' || true); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) run $(WORKFLOWCHECK) $(PKGS)

DEEPCOPY ?= k8s.io/code-generator/cmd/deepcopy-gen@v0.37.2

.PHONY: generate
generate: ## Regenerate k8s/job's DeepCopy methods after changing its types
	$(GO) run $(DEEPCOPY) --output-file zz_generated.deepcopy.go --go-header-file /dev/null ./k8s/job

.PHONY: crds
crds: ## Regenerate k8s/api's DeepCopy methods and deploy/crds (controller-gen, built once from the module proxy)
	dev/tools/controller-gen/generate.sh

BENCH_MODE ?= quick

.PHONY: bench
bench: dev-up build ## Measure Kindling against same-run baselines on the local stack (BENCH_MODE=quick|full) and write docs/benchmarks.md
	KUBECONFIG=$(DEV_DIR)/kubeconfig TEMPORAL_ADDRESS=127.0.0.1:7233 $(GO) run ./dev/cmd/kindling-bench -mode $(BENCH_MODE) -out docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem ./k8s/cluster/

.PHONY: dev-up
dev-up: ## Build (once, cached) and start Temporal, a kwok cluster and the driver emulator
	dev/stack.sh up

.PHONY: dev-down
dev-down: ## Stop exactly what dev-up started
	dev/stack.sh down

.PHONY: dev-status
dev-status: ## Show what of the local stack is running
	dev/stack.sh status

.PHONY: demo
demo: dev-up build ## Stack up, worker up, examples/spark-pi.yaml run to COMPLETED, worker stopped
	dev/demo.sh

.PHONY: clean
clean: dev-down ## Stop the stack and remove build output and .dev/ (the binary cache stays)
	rm -rf $(BIN) $(DEV_DIR)
