# The two commands in the README: `make demo` and `make test`. Each sets up everything it needs
# (a virtualenv in .venv with the project and its dev tools) and is safe to run again.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit bench rules-doc clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/smo-audit demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy smo_audit rules

unit: setup
	$(BIN)/pytest

test: lint typecheck unit

bench: setup
	$(BIN)/python benchmarks/crawl_benchmark.py

rules-doc: setup
	$(BIN)/python -m smo_audit.engine.docs > docs/rules.md

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
