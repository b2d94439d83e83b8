# Patronus Cloud — the commands a newcomer can guess.
#   make run         the local stack (MariaDB + SeaweedFS S3 + the web application, its sign-in and
#                    the API on http://127.0.0.1:8080)
#   make test        linters and every test suite (what CI runs)
#   make test-fast   ruff, mypy on the Lambda code and scripts, and the unit suite: before every commit
#   make cost        what each environment costs a month, line by line (docs/cost.md)
#   make web-dev     Vite's dev server for the web application, against the running local stack
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
# The web application's build, redone when a source of it changed.
WEB_DIST := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/tsconfig.json web/vite.config.ts web/eslint.config.js
CODE := functions layers stacks scripts tests benchmarks app.py
# What the unit suite covers, type-checked in seconds even without mypy's cache. make lint checks
# everything: aws-cdk-lib's types alone take mypy about 3 minutes without a cache.
FAST_TYPED := functions layers scripts tests/unit tests/conftest.py tests/readme.py
# uv reads no pip configuration: name the registry, PyPI, so that every machine installs the same.
PACKAGE_INDEX ?= https://pypi.org/simple
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= eu-west-3

.PHONY: install run test test-fast test-unit test-infra test-integration test-e2e test-hardening \
	pytest screenshots lint lint-fast format synth synth-pipeline bench cost clean system-deps \
	web web-dev web-lint web-test web-api-types web-api-types-check

# Python packages: uv (pinned in requirements-dev.txt) is bootstrapped into the venv with pip, then
# installs everything else in seconds, listing each package it adds or changes.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { echo "Creating $(VENV) ..."; $(PYTHON) -m venv $(VENV); }
	@test -x $(UV) && $(UV) --version | grep -qF "$$(sed -n 's/^uv==//p' requirements-dev.txt)" || { \
		echo "Installing $$(grep '^uv==' requirements-dev.txt) into $(VENV) with pip ..."; \
		$(PY) -m pip install --disable-pip-version-check --progress-bar off "$$(grep '^uv==' requirements-dev.txt)"; }
	@echo "Installing the Python packages of requirements-dev.txt with uv ..."
	$(UV) pip install --python $(PY) --index-url $(PACKAGE_INDEX) -r requirements-dev.txt
	@touch $@

# Node packages, one npm ci for the whole repository: the CDK command line and the web
# application (web/ is an npm workspace).
$(NODE_STAMP): package.json package-lock.json web/package.json
	@echo "Installing the Node packages of package-lock.json with npm ci ..."
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(NODE_STAMP)

$(WEB_DIST): $(NODE_STAMP) $(WEB_SOURCES)
	@echo "Building the web application into web/dist ..."
	npm run build --workspace web --silent
	@touch $@

web: $(WEB_DIST)

# Vite's dev server on http://127.0.0.1:5173 (hot reload); it passes the API, config.json and the
# sign-in to the local stack, which `make run` starts in another shell.
web-dev: $(NODE_STAMP)
	npm run dev --workspace web

# ESLint, the TypeScript compiler, and the API types against the code's OpenAPI document.
web-lint: $(NODE_STAMP) web-api-types-check
	npm run lint --workspace web --silent
	npm run typecheck --workspace web --silent

web-test: $(NODE_STAMP)
	npm test --workspace web --silent

# The web application's API types (web/src/api/schema.d.ts) from the OpenAPI document the code
# generates: run after changing the API.
web-api-types: $(STAMP) $(NODE_STAMP)
	$(PY) -m scripts.devstack.openapi > web/.openapi.json
	npx --no-install openapi-typescript web/.openapi.json -o web/src/api/schema.d.ts
	@rm -f web/.openapi.json

web-api-types-check: $(STAMP) $(NODE_STAMP)
	@$(PY) -m scripts.devstack.openapi > web/.openapi.json
	@npx --no-install openapi-typescript web/.openapi.json -o web/.schema.d.ts > /dev/null 2>&1
	@cmp -s web/.schema.d.ts web/src/api/schema.d.ts && rm -f web/.openapi.json web/.schema.d.ts || { \
		rm -f web/.openapi.json web/.schema.d.ts; \
		echo "web/src/api/schema.d.ts does not match the API's OpenAPI document: run make web-api-types"; \
		exit 1; }

system-deps:
	@bash scripts/system_deps.sh

run: system-deps $(STAMP) $(WEB_DIST)
	$(PY) -m scripts.run_local

# Every suite in one pytest run, fastest first (tests/conftest.py orders them: unit,
# infrastructure, integration, e2e, hardening), so that a broken unit test is reported in seconds.
test: system-deps $(STAMP) lint web-test pytest

# The e2e and hardening suites open the web application in Chromium: it is built first.
# Two pytest-xdist workers, a test file each at a time: the template syntheses (CPU) overlap the
# server-bound suites (waiting on MariaDB, SeaweedFS and the browser). PYTEST_WORKERS=0 runs
# everything in one process, in SUITE_ORDER.
PYTEST_WORKERS ?= 2
pytest: $(STAMP) $(WEB_DIST)
	$(PY) -m pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

# Refresh the README's screenshots of the web application (docs/images/): the browser tests save
# them only when asked, so that a test run leaves the working tree clean.
screenshots: $(STAMP) $(WEB_DIST)
	PATRONUS_SCREENSHOTS=1 $(PY) -m pytest tests/e2e -m browser

# The loop before each commit, in well under a minute: ruff over all the code, mypy over what the
# unit suite covers, then the unit suite (no server needed).
test-fast: $(STAMP) lint-fast test-unit

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

# The web stack stages the built application (web/dist) as deployment assets.
test-infra: $(STAMP) $(WEB_DIST)
	$(PY) -m pytest tests/infrastructure

test-integration: system-deps $(STAMP)
	$(PY) -m pytest tests/integration

test-e2e: system-deps $(STAMP) $(WEB_DIST)
	$(PY) -m pytest tests/e2e

test-hardening: system-deps $(STAMP) $(WEB_DIST)
	$(PY) -m pytest tests/hardening

lint: $(STAMP) web-lint
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)
	$(VENV)/bin/mypy $(CODE)

lint-fast: $(STAMP)
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)
	$(VENV)/bin/mypy $(FAST_TYPED)

format: $(STAMP)
	$(VENV)/bin/ruff format $(CODE)
	$(VENV)/bin/ruff check --fix $(CODE)

# Every environment of cdk.json into cdk.out/ (ENV=dev for one). Offline: no AWS account, no
# lookups, no metadata-service probe; only pip reaches the package index to build the layer. The
# web application is built first: the web stack deploys web/dist.
synth: $(STAMP) $(NODE_STAMP) $(WEB_DIST)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=true \
		npx cdk synth --quiet --no-notices $(if $(ENV),-c env=$(ENV))

# The delivery pipeline stack and the environments it deploys (patronus.pipeline in cdk.json).
synth-pipeline: $(STAMP) $(NODE_STAMP) $(WEB_DIST)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=true \
		npx cdk synth --quiet --no-notices -c pipeline=true

# What each environment costs a month, from its synthesized templates (docs/cost.md). Usage
# assumptions and prices as options: make cost COST_ARGS="--env dev --idle --output cost.json".
cost: $(STAMP)
	$(PY) -m scripts.cost_estimate $(COST_ARGS)

bench: system-deps $(STAMP) $(WEB_DIST)
	$(PY) -m benchmarks

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .build web/dist
