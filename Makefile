# titanic-mlops: every target a user, CI or a workflow runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export TITANIC_MLOPS_STATE_DIR ?= $(CURDIR)/.state
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
UV ?= $(shell command -v uv 2>/dev/null || echo $(VENV)-uv/bin/uv)
export PREFECT_HOME ?= $(TITANIC_MLOPS_STATE_DIR)/prefect
export MLFLOW_ENABLE_TELEMETRY ?= false

.PHONY: help
help: ## List every target with one line
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

include mk/*.mk
