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

## test: install with the dev extra, then layering, lint and types (Python and TypeScript), the
## web app's build and unit tests, then the Python suite spread over TEST_WORKERS processes
## (pytest-xdist; TEST_WORKERS=0 runs it in this one) while Playwright drives the built app in
## Chromium beside it (it mostly waits on streams, so the two share the cores well; its log is
## printed after pytest's). WEB_TESTS=0 leaves the web app out (for a quick local run).
TEST_WORKERS ?= 2
WEB_TESTS    ?= 1
WEB_E2E_LOG  := $(WEB)/test-results/e2e.log
ifeq ($(WEB_TESTS),0)
test: install-dev lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal
else
test: install-dev lint typecheck web-unit web-browser
	@mkdir -p $(dir $(WEB_E2E_LOG))
	@( $(MAKE) --no-print-directory web-e2e > $(WEB_E2E_LOG) 2>&1; echo $$? > $(WEB_E2E_LOG).rc ) & \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal; py=$$?; wait; \
	echo "---- web end-to-end tests (Playwright, Chromium): $(WEB_E2E_LOG) ----"; \
	cat $(WEB_E2E_LOG); web=$$(cat $(WEB_E2E_LOG).rc); \
	echo "pytest exit $$py, Playwright exit $$web"; test $$py -eq 0 && test $$web -eq 0
endif

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

## bench-api-load: read endpoints under 50/200/500 clients (each also streaming a turn) on a
## throwaway PostgreSQL database, vs a one-statement floor app (bench/README.md);
## e.g. BENCH_ARGS="--levels 50 --duration-s 5 --no-readme" for a quick look
.PHONY: bench-api-load
bench-api-load: install
	$(BIN)/python -m bench.api_load.run $(BENCH_ARGS)

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
	cd $(WEB) && $(NPM_ENV) npx next build && node scripts/connect-origins.mjs out
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
web-test: web-unit web-browser
	$(MAKE) --no-print-directory web-e2e

## web-unit: build the app (needs Node.js), check its API types match the server's OpenAPI,
## type-check it and run its Vitest unit tests
.PHONY: web-unit web-e2e web-require-node
web-require-node:
	@command -v node >/dev/null 2>&1 || { echo "error: Node.js (>= 20.9) is needed to build and test the web app (WEB_TESTS=0 skips it)"; exit 1; }

web-unit: install web-require-node
	$(MAKE) --no-print-directory $(WEB)/out/index.html
	cd $(WEB) && PANTHEON_PYTHON=$(abspath $(BIN)/python) node scripts/gen-api.mjs --check
	cd $(WEB) && npx tsc --noEmit
	cd $(WEB) && npx vitest run

# Playwright against a real `pantheon serve` serving the built app (screenshots: web/test-results/).
web-e2e: install
	cd $(WEB) && PANTHEON_PYTHON=$(abspath $(BIN)/python) npx playwright test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache *.egg-info
