# Ledgerlight: `make run` serves the app on the demo bank; `make test` runs the whole suite (browser tests included).
SHELL := /bin/bash
PYTHON ?= python3
# one virtual environment per interpreter: `make test PYTHON=python3.13` builds and uses .venv-python3.13
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN := $(VENV)/bin
DEMO_CUSTOMERS ?= 50000
HOST ?= 127.0.0.1
PORT ?= 8050
PYTEST_ARGS ?=

export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install install-test system-test-deps setup run test lint bench clean

help:
	@echo "make run    set up, build the demo bank, train what is missing, serve http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite (browser tests in headless Chromium)"
	@echo "make bench  run the benchmarks, write bench/results/*.json and bench/REPORT.md"
	@echo "make lint   ruff check, ruff format --check, mypy"

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Debian's Chromium and ChromeDriver for the browser tests (root or sudo; skipped when already there).
system-test-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then echo "chromium: present"; \
	else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo "sudo" ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

setup: install
	$(BIN)/ledgerlight setup --customers $(DEMO_CUSTOMERS)

run: setup
	$(BIN)/ledgerlight serve --host $(HOST) --port $(PORT)

# The storage tests also run against a throwaway PostgreSQL on loopback when one can be installed and started.
test: install system-test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy  # type check: [tool.mypy] in pyproject.toml, zero errors
	@pg=""; \
	if out=$$(bash tests/postgres_server.sh start); then eval "$$out"; pg=$$POSTGRES_TEST_DIR; \
	else echo "PostgreSQL is not available here: its storage tests will be skipped"; fi; \
	rc=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ -n "$$pg" ]; then bash tests/postgres_server.sh stop "$$pg"; fi; \
	exit $$rc

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The database benchmark also measures PostgreSQL when a throwaway server can be started on loopback.
bench: install
	@pg=""; \
	if out=$$(bash tests/postgres_server.sh start); then eval "$$out"; pg=$$POSTGRES_TEST_DIR; \
	export DATABASE_URL_BENCH=$$DATABASE_URL_TEST; fi; \
	rc=0; $(BIN)/python -m bench || rc=$$?; \
	if [ -n "$$pg" ]; then bash tests/postgres_server.sh stop "$$pg"; fi; \
	[ $$rc = 0 ] && $(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
