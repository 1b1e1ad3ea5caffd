# Omotenashi. `make run` and `make test` work on a fresh machine with only Python 3.11+ and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAM_VENV := .sam-venv
# SAM CLI and `sam build` need python3.12 (the Lambda runtime); pyenv installs may not be on PATH.
SAM_PYTHON ?= $(shell command -v python3.12 2>/dev/null | grep -v shims || ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1)
SAM := $(SAM_VENV)/bin/sam
PORT ?= 3000
export SAM_CLI_TELEMETRY := 0

.PHONY: run test test-unit lint build deploy bench openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: start the whole system locally (embedded moto AWS) on 127.0.0.1:$(PORT)
run: $(STAMP)
	PORT=$(PORT) $(PY) -m omotenashi_local

## test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest

## test-unit: the inner loop: pure logic, schemas and architecture rules; no moto, seconds
test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

## openapi: write the served OpenAPI document to docs/openapi.json (a test keeps the two equal)
openapi: $(STAMP)
	$(PY) -m omotenashi_local.openapi

## lint: ruff, mypy and cfn-lint on the SAM template
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint infra/template.yaml

## bench: print the benchmark figures
bench: $(STAMP)
	$(PY) bench/run_all.py
	$(PY) bench/loyalty_calls.py
	$(PY) bench/loyalty_sweep.py
	$(PY) bench/review_sweep.py
	$(PY) bench/inbound_mail.py
	$(PY) bench/loyalty_load.py

$(SAM):
	@test -n "$(SAM_PYTHON)" || { echo "python3.12 is needed for sam build (set SAM_PYTHON)"; exit 1; }
	$(SAM_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli

## build: sam build (SAM CLI lives in its own venv: it pins its own boto3). The layer's recipe is
## layers/shared/Makefile (build_layer.py), run with the same python3.12.
build: $(SAM)
	PATH="$(dir $(SAM_PYTHON)):$$PATH" LAYER_PYTHON="$(SAM_PYTHON)" $(SAM) build --config-env $${ENV:-dev}

## deploy: sam deploy to ENV (dev by default; needs AWS credentials)
deploy: build
	$(SAM) deploy --config-env $${ENV:-dev}

clean:
	rm -rf .aws-sam $(VENV) $(SAM_VENV)
