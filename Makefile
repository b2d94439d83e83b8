# Patronus Cloud — the commands a newcomer can guess.
#   make run    the local stack (MariaDB + SeaweedFS S3 + the API on http://127.0.0.1:8080)
#   make test   linters and every test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
CODE := functions layers stacks scripts tests benchmarks app.py
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= eu-west-3

.PHONY: install run test pytest lint format synth synth-pipeline bench clean system-deps

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

system-deps:
	@bash scripts/system_deps.sh

run: system-deps $(STAMP)
	$(PY) -m scripts.run_local

test: system-deps $(STAMP) lint pytest

pytest: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)
	$(VENV)/bin/mypy $(CODE)

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
