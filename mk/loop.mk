# The closed loop: traffic, monitoring, retraining, dashboards and the demo (docs/monitoring.md).
# The DVC workspace; empty: the current directory, or the demo's after `make demo` (see `up`).
WORKSPACE ?=
SCENARIO ?= none
ROWS ?= 200
SEED ?= 0
API_URL ?= http://127.0.0.1:8000

.PHONY: simulate
simulate: ## Send traffic + labels to the API (SCENARIO=none|covariate|concept ROWS= SEED= API_URL=)
	$(BIN)/titanic-mlops simulate --scenario $(SCENARIO) --rows $(ROWS) --seed $(SEED) --url $(API_URL)

.PHONY: monitor
monitor: ## One monitoring cycle on the prediction log (retrains through the gate when drift persists)
	$(BIN)/titanic-mlops monitor $(if $(WORKSPACE),--workspace $(WORKSPACE))

.PHONY: bench-drift
bench-drift: ## False-alarm and detection rates of the drift policy at the default window, as a table
	$(BIN)/python benchmarks/drift_policy.py

.PHONY: bench-experiment
bench-experiment: ## False promotion rate, power and labelled rows to a decision of the online A/B test (shadow, canary), as a table
	$(BIN)/python benchmarks/experiment.py

.PHONY: up
up: ## Start the API (8000), MLflow UI (5000), Evidently UI (8001), Prefect UI (4200); pids in <state>/run
	$(BIN)/python scripts/services.py up --state $(TITANIC_MLOPS_STATE_DIR) $(if $(WORKSPACE),--workspace $(WORKSPACE))

.PHONY: down
down: ## Stop what `make up` started
	$(BIN)/python scripts/services.py down --state $(TITANIC_MLOPS_STATE_DIR)

.PHONY: demo
demo: setup ## The whole loop from the snapshot, driven by the worker (KEEP=1 leaves the stack running)
	$(BIN)/python scripts/demo.py

RUNS ?= 3
PREFECT_API ?= http://127.0.0.1:$(or $(PREFECT_PORT),4200)/api

.PHONY: bench-loop
bench-loop: ## Drift judged -> new champion served, split into parts, over RUNS runs against a running `make up`
	cd $(or $(WORKSPACE),$(CURDIR)) && $(BIN)/python $(CURDIR)/benchmarks/loop.py --runs $(RUNS) --url $(API_URL) --prefect $(PREFECT_API) --snapshot $(CURDIR)/data/external/titanic/train.csv
