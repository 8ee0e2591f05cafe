# The few commands a newcomer needs. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# What running needs, and on top of it what the tests and benchmarks need: a first `make run` installs only the first.
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
DEV_STAMP := $(VENV)/.installed-dev-$(SUM)
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# The web pages: npm packages from the committed lock file (running needs Preact and esbuild; the
# tests add axe-core), built by scripts/build-ui.mjs into contact_center/web/static/build/.
LOCK_SUM := $(shell cksum package-lock.json | cut -d' ' -f1)
NPM_RUN := node_modules/.installed-run-$(LOCK_SUM)
NPM_DEV := node_modules/.installed-dev-$(LOCK_SUM)
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
UI := contact_center/web/static/build/widget.js
UI_SOURCES := $(shell find contact_center/web/ui -type f) scripts/build-ui.mjs

.PHONY: run test lint bench clean ui node-tools

$(RUN_STAMP): pyproject.toml
	bash scripts/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	rm -f $(VENV)/.installed-*
	touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP)
	$(PIP) -e '.[test,bench]'
	touch $(DEV_STAMP)

node-tools:
	@command -v npm >/dev/null || apt-get install -y --no-install-recommends nodejs npm

$(NPM_RUN): package-lock.json | node-tools
	@if [ -e $(NPM_DEV) ]; then touch $@; else $(NPM_CI) --omit=dev && touch $@; fi

$(NPM_DEV): package-lock.json | node-tools
	$(NPM_CI)
	touch $@ $(NPM_RUN)

$(UI): $(NPM_RUN) $(UI_SOURCES)
	node scripts/build-ui.mjs

## make ui: build the widget (and the pages moved to contact_center/web/ui/)
ui: $(UI)

## make run: the engine on http://127.0.0.1:8080 with demo agents and the demo shop page
run: $(RUN_STAMP) $(UI)
	$(VENV)/bin/contact-center --config config.toml serve --demo

## make test: lint, types, then the whole suite (starts or installs the services it needs)
test: $(DEV_STAMP) $(NPM_DEV) $(UI)
	bash scripts/test-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest --durations=20 tests
	$(PY) -m pytest -q --cov=routing --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100 tests/routing

## make bench: the benchmarks; figures go to bench/results and BENCHMARKS.md is written from them
bench: $(DEV_STAMP) $(UI)
	$(PY) -m bench

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache .coverage node_modules contact_center/web/static/build
