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

## serve: install, build the web app, migrate the embedded database and run Pantheon on
## http://127.0.0.1:8000 (the web app at /, the API at /api/v1)
serve: install web-build
	$(BIN)/pantheon serve

## test: install with the dev extra, then layering, lint, types and the whole test suite,
## spread over TEST_WORKERS processes (pytest-xdist; TEST_WORKERS=0 runs it in this one)
TEST_WORKERS ?= 2
test: install-dev lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

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

# --- The web app (web/): Next.js built to static files that `pantheon serve` serves at / ---
WEB     := web
WEB_SRC := $(shell find $(WEB)/app $(WEB)/components $(WEB)/hooks $(WEB)/lib $(WEB)/public \
                 -type f -not -name '*.test.ts' 2>/dev/null) \
           $(WEB)/package.json $(WEB)/next.config.ts $(WEB)/tsconfig.json
NPM_ENV := PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NEXT_TELEMETRY_DISABLED=1

.PHONY: web-build web-test web-install web-browser
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && $(NPM_ENV) npm ci --no-audit --no-fund
	touch $@

# Rebuilt only when a source changed; without Node the server shows how to build instead.
$(WEB)/out/index.html: $(WEB)/node_modules/.installed $(WEB_SRC)
	cd $(WEB) && $(NPM_ENV) npx next build
	touch $@

web-install: $(WEB)/node_modules/.installed

## web-build: npm ci + next build into web/out (skipped, with a warning, when Node is missing)
web-build:
	@if command -v node >/dev/null 2>&1; then $(MAKE) --no-print-directory $(WEB)/out/index.html; \
	else echo "warning: Node.js not found: the web app is not built (the API still serves)"; fi

# Debian's Chromium for Playwright (Playwright's own download needs the internet).
web-browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium)

## web-test: type-check, Vitest unit tests, then Playwright against a real `pantheon serve`
web-test: install web-build web-browser
	cd $(WEB) && npx tsc --noEmit
	cd $(WEB) && npx vitest run
	cd $(WEB) && PANTHEON_PYTHON=$(abspath $(BIN)/python) npx playwright test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache *.egg-info
