# newsroom: `make run` and `make test` are all a fresh machine needs; both set up the
# virtualenv on first use. `make help` lists every target.

PYTHON ?= python3
# sam build needs python3.13 on PATH (the Lambda runtime); pyenv's is used when present.
SAM_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# Defined before any rule names it: make expands a rule's prerequisites as it reads the rule.
SAM_STAMP := $(SAM_VENV)/.installed
PYTEST_ARGS ?=
# Template parameters of `make run` other than their defaults (the deployed default is ApiDocs=off).
RUN_PARAMETERS ?= ApiDocs=on
# Other options of `newsroom run`, e.g. RUN_ARGS="--reuse-emulator --no-stage-in-path".
RUN_ARGS ?=
# Options of `make bench`, e.g. BENCH_ARGS="--runs 11" or BENCH_ARGS=--importtime.
BENCH_ARGS ?=
# Options of `make bench-altcha`, e.g. BENCH_ALTCHA_ARGS="--solves 30 --cost 10000".
BENCH_ALTCHA_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint format typecheck template-variants cfn-lint sam-validate checkov lock requirements requirements-check \
        sam-python \
        pytest unit integration invoke import-articles import-wordpress build check-arm64 bench \
        bench-altcha bench-import load openapi costs \
        test-localstack clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

# Every install is from a lock, each package pinned with its hashes (see `make lock`).
LOCKED_INSTALL := -m pip install --quiet --require-hashes --no-deps

$(STAMP): pyproject.toml tools/pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python $(LOCKED_INSTALL) -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	# The tools after the project: they own the `newsroom` command, which a venv made before they
	# were their own package has in the project's record (reinstalling it would remove it).
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --force-reinstall -e tools
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install the project with its dev tools, from the lock

run: $(STAMP) ## run everything locally: emulator on :4566, API on http://127.0.0.1:3000/v1, demo site on :8000
	$(BIN)/newsroom run $(if $(PORT),--port $(PORT)) $(if $(EMULATOR_PORT),--emulator-port $(EMULATOR_PORT)) \
	  $(if $(DEMO_PORT),--demo-port $(DEMO_PORT)) \
	  $(RUN_ARGS) $(if $(RUN_PARAMETERS),--parameter-overrides $(RUN_PARAMETERS))

invoke: $(STAMP) ## invoke a function with an event, e.g. FUNCTION=ArticlesFunction EVENT=events/get_article.json
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=ArticlesFunction EVENT=events/get_article.json"; exit 2; }
	$(BIN)/newsroom invoke $(FUNCTION) $(EVENT) $(if $(PORT),--port $(PORT)) \
	  $(if $(EMULATOR_PORT),--emulator-port $(EMULATOR_PORT))

import-articles: $(STAMP) ## add articles to a running make run, e.g. ARTICLES="my-article.md more/"
	@test -n "$(ARTICLES)" || { echo "usage: make import-articles ARTICLES=path/to/article.md"; exit 2; }
	$(BIN)/newsroom articles import --local $(if $(EMULATOR_PORT),--emulator-port $(EMULATOR_PORT)) $(ARTICLES)

import-wordpress: $(STAMP) ## a WordPress export (WXR) into a running make run, e.g. FILE=export.xml (DRY_RUN=1: report only)
	@test -n "$(FILE)" || { echo "usage: make import-wordpress FILE=path/to/export.xml [DRY_RUN=1]"; exit 2; }
	$(BIN)/newsroom import wordpress --local $(if $(EMULATOR_PORT),--emulator-port $(EMULATOR_PORT)) \
	  $(if $(DRY_RUN),--dry-run) $(FILE)

test: lint typecheck cfn-lint checkov sam-validate requirements-check pytest check-arm64 ## everything CI runs: lint, types, template, tests, arm64 layer

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy, strict on shared/ and functions/
	$(BIN)/mypy

# The template as deployed with every option on and with every option off
# (tests/checkov/template_variants.py), checked besides the template itself.
VARIANT_NAMES := all-on all-off api-domain
VARIANTS := $(VARIANT_NAMES:%=.aws-sam/variants/template-%.json)

template-variants: $(STAMP) ## write the template with every option on, every option off, and on with the domain on the API
	$(BIN)/python tests/checkov/template_variants.py template.yaml .aws-sam/variants

cfn-lint: template-variants ## lint template.yaml, and as deployed in each variant (every option on, off, domain on the API)
	$(BIN)/cfn-lint template.yaml $(VARIANTS)

sam-validate: template-variants sam-python $(SAM_STAMP) ## sam validate --lint on template.yaml, and in each variant
	for template in template.yaml $(VARIANTS); do \
	  SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint -t $$template || exit 1; \
	done

openapi: $(STAMP) ## regenerate docs/openapi.json (the API contract, and the layer's copy) from the functions
	$(BIN)/python -m newsroom_tools.openapi

CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements/checkov.txt
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python $(LOCKED_INSTALL) -r requirements/checkov.txt
	touch $@

checkov: $(CHECKOV_STAMP) ## checkov on template.yaml and on the CloudFormation SAM expands it into: as is, and in each variant
	$(CHECKOV_VENV)/bin/python tests/checkov/sam_to_cloudformation.py template.yaml .aws-sam/checkov/template.json
	for variant in $(VARIANT_NAMES); do \
	  $(CHECKOV_VENV)/bin/python tests/checkov/sam_to_cloudformation.py --variant $$variant \
	    template.yaml .aws-sam/checkov/template-$$variant.json || exit 1; \
	done
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV) --config-file .checkov.yaml -f template.yaml \
	  -f .aws-sam/checkov/template.json $(VARIANT_NAMES:%=-f .aws-sam/checkov/template-%.json)

# uv resolves the locks; it is installed from its own lock, requirements/uv.txt.
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
UV_STAMP := $(UV_VENV)/.installed
LOCKS := PYTHONPATH=tools $(PYTHON) -m newsroom_tools.locks --uv $(UV)

$(UV_STAMP): requirements/uv.txt
	rm -rf $(UV_VENV)
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python $(LOCKED_INSTALL) -r requirements/uv.txt
	touch $@

lock: $(UV_STAMP) ## re-resolve uv.lock and the tool locks (LOCK_ARGS=--upgrade for the newest), export
	$(LOCKS) --resolve $(LOCK_ARGS)

requirements: $(UV_STAMP) ## export shared/requirements.txt (the layer's) and requirements/dev.txt from uv.lock
	$(LOCKS)

requirements-check: $(UV_STAMP) ## fail when uv.lock, pyproject.toml, the exports and the tool locks disagree
	$(LOCKS) --check

# The suite on every core (PYTEST_WORKERS=1 for one process): pytest-xdist gives each worker
# whole files, and each worker's session starts an emulator of its own (tests/conftest.py).
PYTEST_WORKERS ?= auto
pytest: $(STAMP) ## unit, integration and browser tests (starts the emulator itself when none runs)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

unit: $(STAMP) ## unit tests only (no network)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP) ## integration tests only
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

# Stops with what is missing and how to get it, before anything uses $(SAM_PYTHON).
sam-python:
	@test -n "$(SAM_PYTHON)" || { \
	  echo "make: sam build needs Python 3.13 (the Lambda runtime) and found none, in pyenv" \
	    "($(HOME)/.pyenv/versions/3.13*) or as python3.13 on PATH. Install it (pyenv install" \
	    "3.13, or your system's python3.13 package), or name it:" \
	    "make test SAM_PYTHON=/path/to/python3.13" >&2; exit 1; }
	@"$(SAM_PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { \
	  echo "make: SAM_PYTHON=$(SAM_PYTHON) is not Python 3.13, which sam build needs (the" \
	    "Lambda runtime): make test SAM_PYTHON=/path/to/python3.13" >&2; exit 1; }

$(SAM_STAMP): requirements/sam.txt | sam-python
	rm -rf $(SAM_VENV)
	$(SAM_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python $(LOCKED_INSTALL) -r requirements/sam.txt
	touch $@

build: sam-python $(SAM_STAMP) ## sam build (python3.13 on PATH; the layer built by shared/Makefile for arm64, with bytecode)
	SAM_CLI_TELEMETRY=0 PATH="$(abspath $(SAM_VENV))/bin:$(dir $(SAM_PYTHON)):$$PATH" $(SAM) build

check-arm64: build $(STAMP) ## sam build, then prove the layer is the lock's, its native extensions aarch64
	$(BIN)/python -m newsroom_tools.check_layer .aws-sam/build/NewsroomLayer shared/requirements.txt

load: $(STAMP) ## bounded load through a local run, then reconcile; bigger: make load LOAD_ARGS="--posts 1000 --seconds 300"
	$(BIN)/python -m newsroom_tools.load $(LOAD_ARGS)

costs: $(STAMP) ## the monthly cost table of docs/costs.md, from list prices and the template (COSTS_ARGS: see newsroom costs --help)
	$(BIN)/newsroom costs $(COSTS_ARGS)

bench: $(STAMP) ## cold start of each function's first request vs a bare boto3 handler; BENCH_ARGS=--importtime: where it goes
	$(BIN)/python -m tests.bench.cold_start $(BENCH_ARGS)

bench-altcha: $(STAMP) ## ALTCHA's cost: a reader's solve in headless Chromium (and ALTCHA's devices, estimated) vs the server's issue and verify
	$(BIN)/python -m tests.bench.altcha_cost $(BENCH_ALTCHA_ARGS)

bench-import: $(STAMP) ## peak RSS of importing a generated 200 MB WordPress export (fails at 100 MB or more)
	$(BIN)/python -m tests.bench.import_memory $(BENCH_IMPORT_ARGS)

test-localstack: $(STAMP) ## integration tests against a LocalStack container (needs Docker)
	NEWSROOM_EMULATOR=localstack $(BIN)/pytest tests/integration $(PYTEST_ARGS)

clean: ## remove build output and caches (keeps the virtualenvs)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
