# The production profile against real services (PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379).

.PHONY: services
services: ## Start PostgreSQL and Redis where installed but not running
	bash scripts/services.sh

.PHONY: test-services
test-services: ## The production-profile suite against the real PostgreSQL and Redis (pytest -m services)
	bash scripts/services.sh
	TITANIC_MLOPS_SERVICES=1 $(BIN)/python -m pytest -m services -p no:cacheprovider

.PHONY: test-services-loaded
RUNS ?= 3
test-services-loaded: ## test-services RUNS times in a row (default 3) under one busy process per core (scripts/under_load.sh)
	bash scripts/services.sh
	for run in $$(seq $(RUNS)); do \
		echo "test-services-loaded: run $$run of $(RUNS)"; \
		TITANIC_MLOPS_SERVICES=1 bash scripts/under_load.sh $(BIN)/python -m pytest -m services -p no:cacheprovider -q || exit 1; \
	done

.PHONY: bench-scale
bench-scale: ## Batch rows/s for 1M and 10M rows vs the ONNX floor and the text path (peak memory, JSON), the model search, Feast online latency
	bash scripts/services.sh
	$(BIN)/python benchmarks/scale.py
