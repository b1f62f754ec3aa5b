# The serving API (serving/, docs/serving.md).
SERVING_HOST ?= 127.0.0.1
SERVING_PORT ?= 8000

.PHONY: serve
serve: ## Serve the champion on $(SERVING_HOST):$(SERVING_PORT) (titanic-mlops serve)
	$(BIN)/titanic-mlops serve --host $(SERVING_HOST) --port $(SERVING_PORT)

.PHONY: test-serving
test-serving: ## The serving tests (unit, API, bad inputs, skew, live swap, schemathesis)
	$(BIN)/python -m pytest tests/serving

.PHONY: bench-serving
bench-serving: ## This API vs mlflow, MLServer, KServe, BentoML and the ONNX floor: rps at 8/32 connections, open-loop p50/p99/p99.9, batch, RSS (JSON)
	@export BENCH_PEERS_DIR="$$(bash scripts/bench_peers/install.sh)"; $(BIN)/python benchmarks/serving.py
