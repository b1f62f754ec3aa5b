# The serving container: engine (Docker, or Podman behind the docker CLI), wheels, base image,
# `make image` and its smoke test. docs/container.md explains each target.

SERVING_IMAGE ?= titanic-mlops-serving
# where the Podman service keeps its socket, pid and log (not used with a real Docker daemon)
export TITANIC_MLOPS_CONTAINER_DIR ?= $(TITANIC_MLOPS_STATE_DIR)/container
# BASE_IMAGE= forces a base; empty: python:3.11-slim, or the local Debian one where no registry answers
BASE_IMAGE ?=
CONTAINER_ENGINE := eval "$$(scripts/container/engine.sh)"

.PHONY: container-engine container-engine-stop wheels base-image image container-state container-test

container-engine: ## Make a Docker API answer: a Docker daemon, else Podman's service (installed if missing)
	@$(CONTAINER_ENGINE); echo "container-engine: DOCKER_HOST=$${DOCKER_HOST:-<docker default>}"

container-engine-stop: ## Stop the Podman service container-engine started (no-op with Docker)
	@pidfile=$(TITANIC_MLOPS_CONTAINER_DIR)/podman-service.pid; \
	if [ -f $$pidfile ] && kill "$$(cat $$pidfile)" 2>/dev/null; then echo "stopped podman service"; fi; \
	rm -f $$pidfile $(TITANIC_MLOPS_CONTAINER_DIR)/podman.sock

wheels: ## Export uv.lock's serving closure and build its wheels into docker/wheels (for the image)
	scripts/container/wheels.sh

base-image: ## Print the base image to build FROM (builds localhost/debian-python:bookworm once if needed)
	@$(CONTAINER_ENGINE); BASE_IMAGE="$(BASE_IMAGE)" scripts/container/base-image.sh

# The context is only what the Dockerfile copies (a tar on stdin): the repository is ~1 GB.
image: ## Build titanic-mlops-serving:latest (+ :<git sha>) from docker/Dockerfile
	@set -euo pipefail; $(CONTAINER_ENGINE); \
	scripts/container/wheels.sh; \
	base="$$(BASE_IMAGE="$(BASE_IMAGE)" scripts/container/base-image.sh)"; \
	args=(-f docker/Dockerfile -t $(SERVING_IMAGE):latest); \
	[ "$$base" = python:3.11-slim ] || args+=(--build-arg "BASE_IMAGE=$$base"); \
	sha="$$(git rev-parse HEAD 2>/dev/null || true)"; \
	[ -z "$$sha" ] || args+=(-t "$(SERVING_IMAGE):$$sha"); \
	start=$$(date +%s); \
	echo "docker build $${args[*]} - < (docker/Dockerfile docker/wheels feature_repo)"; \
	tar -c --exclude=__pycache__ docker/Dockerfile docker/wheels feature_repo | docker build "$${args[@]}" -; \
	echo "image: $(SERVING_IMAGE):latest$${sha:+ and :$$sha} built in $$(( $$(date +%s) - start )) s from $$base"; \
	bytes="$$(docker image inspect --format '{{.Size}}' $(SERVING_IMAGE):latest)"; \
	echo "image size: $$(( bytes / 1000000 )) MB (target: under 600 MB; docs/container.md)"

container-state: ## Train into $(TITANIC_MLOPS_STATE_DIR) (make pipeline) unless it holds a champion
	@if $(BIN)/titanic-mlops status --json 2>/dev/null | $(BIN)/python -c \
		'import json, sys; sys.exit(0 if (json.load(sys.stdin).get("champion") or {}).get("version") else 1)'; \
	then echo "container-state: champion found in $(TITANIC_MLOPS_STATE_DIR)"; \
	else echo "container-state: no champion in $(TITANIC_MLOPS_STATE_DIR): make pipeline"; $(MAKE) pipeline; fi

container-test: image container-state ## Build the image, run it on the embedded state, smoke-test predict/health/non-root
	@$(CONTAINER_ENGINE); SERVING_IMAGE=$(SERVING_IMAGE):latest PYTHON=$(BIN)/python scripts/container/smoke.sh
