# The few commands a newcomer needs. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# What running needs, and on top of it what the tests and benchmarks need: a first `make run` installs only the first.
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
DEV_STAMP := $(VENV)/.installed-dev-$(SUM)
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint bench clean

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	rm -f $(VENV)/.installed-*
	touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP)
	$(PIP) -e '.[test,bench]'
	touch $(DEV_STAMP)

## make run: the engine on http://127.0.0.1:8080 with demo agents and the demo shop page
run: $(RUN_STAMP)
	$(VENV)/bin/contact-center --config config.toml serve --demo

## make test: lint, types, then the whole suite (starts or installs the services it needs)
test: $(DEV_STAMP)
	bash scripts/test-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest --cov=routing --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=0 tests
	$(PY) -m pytest -q --cov=routing --cov-branch --cov-fail-under=100 tests/routing

## make bench: the benchmarks; figures go to bench/results and BENCHMARKS.md is written from them
bench: $(DEV_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache .coverage
