# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: serve test lint typecheck unit install install-dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## serve: install, migrate the embedded database and run Pantheon on http://127.0.0.1:8000
serve: install
	$(BIN)/pantheon serve

## test: install with the dev extra, then layering, lint, types and the whole test suite
test: install-dev lint typecheck
	$(BIN)/pytest

lint: install-dev
	$(BIN)/lint-imports
	$(BIN)/ruff check .

typecheck: install-dev
	$(BIN)/mypy

unit: install-dev
	$(BIN)/pytest tests/unit -q

## bench: streaming overhead vs a LiteLLM proxy (bench/README.md); not part of `make test`
bench: install
	$(BIN)/python -m bench.stream_overhead.run $(BENCH_ARGS)

## bench-analytics: analytics from rollups vs the same SQL on raw events, 10 M events in the
## local PostgreSQL (bench/README.md); e.g. BENCH_ARGS="--events 100000" for a quick look
.PHONY: bench-analytics
bench-analytics: install
	$(BIN)/python -m bench.analytics.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache *.egg-info
