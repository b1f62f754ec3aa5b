# Setup, the pipeline, quality checks and tests.
PYTHON_BOOTSTRAP ?= python3
UV_VERSION ?= 0.13.9
STAMP := $(VENV)/.uv-lock.sha256
# Let Python cache bytecode even where the machine disables it: imports are 2-3x faster warm.
# A (re)built .venv is compiled once by uv (--compile-bytecode), so commands run outside make
# under PYTHONDONTWRITEBYTECODE start warm too.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup
setup: ## Create .venv from uv.lock (bootstraps uv through pip; idempotent), with Prefect's migrated database template
	@command -v uv >/dev/null 2>&1 || [ -x $(VENV)-uv/bin/uv ] || \
		{ $(PYTHON_BOOTSTRAP) -m venv $(VENV)-uv && $(VENV)-uv/bin/pip install -q uv==$(UV_VERSION); }
	@want=$$(sha256sum uv.lock | cut -d' ' -f1); \
	if [ -d $(VENV) ] && [ "$$(cat $(STAMP) 2>/dev/null)" != "$$want" ]; then \
		echo "uv.lock changed: rebuilding .venv from scratch"; rm -rf $(VENV); fi; \
	compile=$$([ "$$(cat $(STAMP) 2>/dev/null)" != "$$want" ] && echo --compile-bytecode); \
	$(UV) sync --frozen --all-extras --python 3.11 -q $$compile && echo "$$want" > $(STAMP)
	@$(BIN)/python -m pipelines.prefect_server --template
	@mkdir -p $(TITANIC_MLOPS_STATE_DIR)/dvc-remote
	@if [ "$(TITANIC_MLOPS_STATE_DIR)" != "$(CURDIR)/.state" ]; then \
		$(BIN)/dvc remote modify --local local url $(TITANIC_MLOPS_STATE_DIR)/dvc-remote; fi
	@echo "setup: .venv ready; state in $(TITANIC_MLOPS_STATE_DIR)"

.PHONY: pipeline
pipeline: setup ## Run the DVC pipeline (ingest, validate, features, train, promote)
	$(BIN)/dvc repro

.PHONY: status
status: ## Champion, challenger and history
	$(BIN)/titanic-mlops status

.PHONY: lint
lint: ## ruff (lint + format check) and the import-direction contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

.PHONY: typecheck
typecheck: ## mypy, strict on src/ and the shells (pipelines/, serving/, monitoring/)
	$(BIN)/mypy

.PHONY: test
test: setup ## The whole test suite (slow tests included), offline
	$(BIN)/python -m pytest --junitxml=reports/junit.xml

.PHONY: test-fast
test-fast: ## The suite without slow tests
	$(BIN)/python -m pytest -m "not slow"

.PHONY: bench-pipeline
bench-pipeline: setup ## A cold `dvc repro` stage by stage, a no-op `dvc repro` and `status` (fresh clone), as a table and JSON
	$(BIN)/python benchmarks/pipeline.py

.PHONY: reset
reset: ## Delete all runtime state and pipeline outputs (the next `dvc repro` starts cold)
	rm -rf $(TITANIC_MLOPS_STATE_DIR) data/interim data/validated data/features data/holdout reports

BASE ?= HEAD
.PHONY: metrics-diff
metrics-diff: ## `dvc metrics diff` against BASE (default HEAD) as Markdown; plots diff into dvc_plots/ (offline page)
	@$(BIN)/dvc metrics diff --md $(BASE)
	@echo "" && $(BIN)/python scripts/plots_page.py --diff $(BASE) --out dvc_plots

.PHONY: plots
plots: ## The DVC plots (ROC, confusion, feature importance) as one self-contained page: dvc_plots/index.html
	@$(BIN)/python scripts/plots_page.py --out dvc_plots

# The fast checks the ML Test Score maps (`make test` writes the whole suite's report instead).
SCORECARD_TESTS ?= tests/domain tests/adapters/test_expectations.py tests/adapters/test_shap_explainer.py \
	tests/services/test_anomaly.py tests/services/test_scoring.py tests/services/test_ingest.py \
	tests/config tests/data tests/security tests/deploy/test_observability.py tests/deploy/test_workflows.py \
	tests/serving/test_metrics_health.py tests/services/test_scorecard.py tests/test_house.py
.PHONY: scorecard
scorecard: setup ## ML Test Score: run the mapped checks, print the table, fail below docs/ml-test-score.json
	-$(BIN)/python -m pytest -q -p no:cacheprovider --junitxml=reports/scorecard-junit.xml $(SCORECARD_TESTS)
	$(BIN)/titanic-mlops scorecard --junit reports/scorecard-junit.xml --baseline docs/ml-test-score.json

.PHONY: scorecard-ci
scorecard-ci: ## ML Test Score of the suite `make test` just ran (reports/junit.xml); CI fails on a drop
	$(BIN)/titanic-mlops scorecard --junit reports/junit.xml --baseline docs/ml-test-score.json
