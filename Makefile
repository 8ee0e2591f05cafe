# The few commands a newcomer needs. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## make run: the engine on http://127.0.0.1:8080 with demo agents and the demo shop page
run: $(STAMP)
	$(VENV)/bin/contact-center --config config.toml serve --demo

## make test: lint, types, then the whole suite (starts or installs the services it needs)
test: $(STAMP)
	bash scripts/test-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest --cov=routing --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=0 tests
	$(PY) -m pytest -q --cov=routing --cov-branch --cov-fail-under=100 tests/routing

## make bench: the benchmarks; figures go to bench/results and BENCHMARKS.md is written from them
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache .coverage
