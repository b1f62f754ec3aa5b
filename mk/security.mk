# Supply chain and code security. Ignores live in pyproject ([tool.bandit]) and .secrets.baseline,
# each with a reason and a date (docs/security.md).
SCAN_PATHS := src serving pipelines monitoring

.PHONY: security
security: ## bandit (medium severity and up fails) and the secrets scanner over the tree
	$(BIN)/bandit -q -ll -c pyproject.toml -r $(SCAN_PATHS)
	git ls-files -z -- . ':!.secrets.baseline' | xargs -0 $(BIN)/detect-secrets-hook --baseline .secrets.baseline

.PHONY: audit
audit: ## pip-audit over the locked dependencies (needs PyPI's JSON API or OSV; CI on GitHub)
	$(UV) export --frozen --all-extras --no-emit-project --format requirements-txt > $(TITANIC_MLOPS_STATE_DIR)/requirements.lock.txt
	$(BIN)/pip-audit --strict --disable-pip --require-hashes -r $(TITANIC_MLOPS_STATE_DIR)/requirements.lock.txt $(shell sed -n 's/^\([A-Z0-9-]*\) .*/--ignore-vuln \1/p' .pip-audit-ignore 2>/dev/null)

.PHONY: sbom
sbom: ## A CycloneDX SBOM of the serving dependencies (artifacts/sbom.cdx.json)
	@mkdir -p artifacts
	$(UV) export --frozen --no-dev --extra serving --no-emit-project --format requirements-txt > $(TITANIC_MLOPS_STATE_DIR)/serving.lock.txt
	$(BIN)/python scripts/sbom.py $(TITANIC_MLOPS_STATE_DIR)/serving.lock.txt artifacts/sbom.cdx.json

UPSTREAM_DIR := build/upstream

.PHONY: upstream
upstream: ## The suite against the newest releases: `uv lock --upgrade` in a scratch copy (uv.lock untouched)
	rm -rf $(UPSTREAM_DIR) && mkdir -p $(UPSTREAM_DIR)
	git archive --format=tar HEAD | tar -x -C $(UPSTREAM_DIR)
	cd $(UPSTREAM_DIR) && $(abspath $(UV)) lock --upgrade
	-git diff --no-index --stat uv.lock $(UPSTREAM_DIR)/uv.lock
	TITANIC_MLOPS_STATE_DIR=$(CURDIR)/$(UPSTREAM_DIR)/.state \
		$(MAKE) -C $(UPSTREAM_DIR) setup tools test UV=$(abspath $(UV))
