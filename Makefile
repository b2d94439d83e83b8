# Patronus Cloud — the commands a newcomer can guess.
#   make run         the local stack (MariaDB + SeaweedFS S3 + the API on http://127.0.0.1:8080)
#   make test        linters and every test suite (what CI runs)
#   make test-fast   ruff, mypy on the Lambda code and scripts, and the unit suite: before every commit
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
CODE := functions layers stacks scripts tests benchmarks app.py
# What the unit suite covers, type-checked in seconds even without mypy's cache. make lint checks
# everything: aws-cdk-lib's types alone take mypy about 3 minutes without a cache.
FAST_TYPED := functions layers scripts tests/unit tests/conftest.py tests/readme.py
# uv reads no pip configuration: name the registry, PyPI, so that every machine installs the same.
PACKAGE_INDEX ?= https://pypi.org/simple
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= eu-west-3

.PHONY: install run test test-fast test-unit test-infra test-integration test-e2e test-hardening \
	pytest lint lint-fast format synth synth-pipeline bench clean system-deps

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

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

system-deps:
	@bash scripts/system_deps.sh

run: system-deps $(STAMP)
	$(PY) -m scripts.run_local

# Every suite in one pytest run, fastest first (tests/conftest.py orders them: unit,
# infrastructure, integration, e2e, hardening), so that a broken unit test is reported in seconds.
test: system-deps $(STAMP) lint pytest

pytest: $(STAMP)
	$(PY) -m pytest

# The loop before each commit, in well under a minute: ruff over all the code, mypy over what the
# unit suite covers, then the unit suite (no server needed).
test-fast: $(STAMP) lint-fast test-unit

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-infra: $(STAMP)
	$(PY) -m pytest tests/infrastructure

test-integration: system-deps $(STAMP)
	$(PY) -m pytest tests/integration

test-e2e: system-deps $(STAMP)
	$(PY) -m pytest tests/e2e

test-hardening: system-deps $(STAMP)
	$(PY) -m pytest tests/hardening

lint: $(STAMP)
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
# lookups, no metadata-service probe; only pip reaches the package index to build the layer.
synth: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=true \
		npx cdk synth --quiet --no-notices $(if $(ENV),-c env=$(ENV))

# The delivery pipeline stack and the environments it deploys (patronus.pipeline in cdk.json).
synth-pipeline: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=true \
		npx cdk synth --quiet --no-notices -c pipeline=true

bench: system-deps $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .build
