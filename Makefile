# One entry point for a newcomer: `make demo` and `make test` work from a fresh clone
# on a machine that has only Python 3.11 (everything else goes into .venv).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lint format install clean docs docs-serve docs-check docs-math explore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

DOCS_STAMP := $(VENV)/.docs-installed
KATEX      := docs/vendor/katex/katex.min.js
MKDOCS     := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

$(DOCS_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $(DOCS_STAMP)

# KaTeX for the site's math, from the npm registry at install time (never fetched when viewing)
$(KATEX):
	scripts/vendor_katex.sh docs/vendor/katex

# the site, in site/ (open site/index.html, or `make docs-serve`)
docs: $(DOCS_STAMP) $(KATEX)
	$(MKDOCS) build --strict

docs-serve: $(DOCS_STAMP) $(KATEX)
	$(MKDOCS) serve

# every formula of the built site rendered by KaTeX in a DOM (jsdom from the npm registry)
docs-math: docs
	@tmp=$$(mktemp -d) && (cd $$tmp && npm install --silent jsdom@24 >/dev/null) && NODE_PATH=$$tmp/node_modules node scripts/check_docs_math.js site

# what CI runs: the strict build (a broken link, a missing page, a stale reference fails), no KaTeX needed
docs-check: $(DOCS_STAMP)
	$(MKDOCS) build --strict --site-dir $$(mktemp -d)

demo: $(STAMP)
	$(BIN)/python -m jaxcollapse

EXPLORE_STAMP := $(VENV)/.explore-installed

$(EXPLORE_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,explore]"
	touch $(EXPLORE_STAMP)

# the live phase diagram: serves http://127.0.0.1:8765/ and opens it (Ctrl-C stops it)
explore: $(EXPLORE_STAMP)
	$(BIN)/jaxcollapse explore

# Two workers, one test file each at a time. A worker that dies (a crash inside a compiled library)
# ends the run at once, naming its test: pytest-xdist 3.8 can wait forever for a replacement worker
# under --dist loadfile (its scheduler re-queues work the dead worker had finished).
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile --max-worker-restart 0

# the fast tier (about 4 minutes on 2 cores from an empty compilation cache); tests/conftest.py
# (SLOW_TIER) says which checks are slow
test: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS)

# both tiers: end-to-end runs, notebooks, heavy Monte Carlo, browser, several processes (what CI runs)
test-all: $(STAMP)
	$(PYTEST) --tier all $(PYTEST_ARGS)

# ruff, configured in pyproject.toml: `make format` rewrites, `make lint` (run by CI) only checks
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) jaxcollapse-out .pytest_cache site docs/vendor
