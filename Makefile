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

# `make help` groups: what a user runs, what CI and the workflows run; every other target is
# "develop". A new target lands in develop until it is named here.
HELP_USE := setup demo pipeline status serve up down simulate monitor plots metrics-diff reset help
HELP_CI := test test-services test-deploy test-serving container-test security audit sbom tools \
	deploy release-info wheels compose-wheels base-image image container-state container-engine \
	container-engine-stop

.PHONY: help
help: ## List every target with one line, grouped: use / develop / CI
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort -u | awk -F':.*## ' \
	  -v use=" $(HELP_USE) " -v ci=" $(HELP_CI) " \
	  '{ g = index(use, " " $$1 " ") ? 1 : (index(ci, " " $$1 " ") ? 3 : 2); line[g] = line[g] sprintf("  %-22s %s\n", $$1, $$2) } \
	   END { print "use:"; printf "%s", line[1]; print "\ndevelop:"; printf "%s", line[2]; print "\nCI:"; printf "%s", line[3] }'

include mk/*.mk
