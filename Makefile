# kgraph: `make run` serves the bundled seeds/ (installing kgraph and what it needs
# to serve), `make test` runs every check (installing the dev tools too). Both create
# .venv on first use and reinstall when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# kgraph and what it needs to serve (make run); then the dev tools too (make test).
RUNTIME := $(VENV)/.runtime-stamp
DEV := $(VENV)/.dev-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

# The explorer's front-end libraries (KaTeX, Cytoscape.js, GraphiQL): npm packages pinned by
# package-lock.json, bundled by web/build.mjs into kgraph/web/dist/ (gitignored; the
# wheel ships it). Node and npm come from Debian when missing, as Chromium does.
WEB := kgraph/web/dist/.built

.PHONY: run test lint typecheck pytest browser web node bench bytecode clean

$(RUNTIME): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "kgraph needs Python 3.11 or later, .venv has " + sys.version.split()[0]'
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV)

run: $(RUNTIME) $(WEB) bytecode
	$(BIN)/kgraph serve --host $(HOST) --port $(PORT)

lint: $(DEV)
	$(BIN)/ruff format --check kgraph tests benchmarks
	$(BIN)/ruff check kgraph tests benchmarks

typecheck: $(DEV)
	$(BIN)/mypy

pytest: $(DEV) browser $(WEB) bytecode
	$(BIN)/pytest

# Python keeps a module's compiled bytecode beside it (__pycache__/, gitignored) unless
# PYTHONDONTWRITEBYTECODE says not to, as in Docker images and CI sandboxes: then every
# kgraph process (the server, each command, each reading process) compiled all of kgraph
# again, 0.2 s of each start (dev warm start 1.28-1.62 s, 1.17-1.25 s compiled). A wheel's
# install compiles it; kgraph's editable install in .venv is compiled here, and again
# for the files changed since (a stale file is compiled in memory, never run stale).
bytecode: $(RUNTIME)
	@$(BIN)/python -m compileall -q kgraph

# The explorer's browser tests (tests/test_web.py) drive Debian's Chromium headless.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; } \
		|| { echo "browser: install chromium and chromium-driver (Debian packages)" >&2; exit 1; }

test: lint typecheck pytest

web: $(WEB)

$(WEB): node_modules/.package-lock.json $(wildcard web/* web/explorer/*)
	npm run --silent build
	@touch $(WEB)

# npm ci writes node_modules/.package-lock.json: reinstalled when the lockfile changes.
node_modules/.package-lock.json: package.json package-lock.json
	@$(MAKE) --no-print-directory node
	npm ci --no-audit --no-fund --loglevel=error

node:
	@command -v node >/dev/null && command -v npm >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq nodejs npm; } \
		|| { echo "web: install Node.js and npm (Debian packages nodejs and npm)" >&2; exit 1; }

# Benchmarks are not tests: run on demand; prints tables, writes benchmarks/results.json.
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--only load,latency".
# The load generator is Debian's wrk, installed here when missing.
# Then benchmarks/relatedness.py (held-out link prediction and search against their
# baselines) writes benchmarks/relatedness_results.json; RELATEDNESS_ARGS passes its options;
# benchmarks/paths.py (learning paths across link islands against keyword bridges) writes
# benchmarks/paths_results.json; PATHS_ARGS passes its options.
bench: $(DEV) bytecode
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "bench: install wrk (Debian package wrk)" >&2; exit 1; }
	$(BIN)/python benchmarks/bench_suite.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/relatedness.py $(RELATEDNESS_ARGS)
	$(BIN)/python benchmarks/paths.py $(PATHS_ARGS)

clean:
	rm -rf $(VENV) node_modules kgraph/web/dist .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
