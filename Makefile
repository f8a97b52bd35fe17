# One entry point for a newcomer: `make demo` and `make test` work from a fresh clone
# on a machine that has only Python 3.11 (everything else goes into .venv).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m jaxcollapse

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# ruff, configured in pyproject.toml: `make format` rewrites, `make lint` (run by CI) only checks
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) jaxcollapse-out .pytest_cache
