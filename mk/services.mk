# The production profile against real services (PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379).

.PHONY: services
services: ## Start PostgreSQL and Redis where installed but not running
	bash scripts/services.sh

.PHONY: test-services
test-services: ## The production-profile suite against the real PostgreSQL and Redis (pytest -m services)
	bash scripts/services.sh
	TITANIC_MLOPS_SERVICES=1 $(BIN)/python -m pytest -m services -p no:cacheprovider

.PHONY: bench-scale
bench-scale: ## Rows/s for 10M rows (one process chunked vs Dask) and Feast online latency (SQLite vs Redis)
	bash scripts/services.sh
	$(BIN)/python benchmarks/scale.py
