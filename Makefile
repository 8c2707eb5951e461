# The two commands in the README: `make demo` and `make test`. Each sets up everything it needs
# (a virtualenv in .venv with the project and its dev tools) and is safe to run again.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup chromium jq bytecode demo test lint typecheck unit bench rules-doc clean

setup: $(STAMP) chromium

# Rendered mode and the HTML-report tests drive an installed Chromium (Playwright's own browser
# download needs internet access). Installed from Debian's packages when missing and we are root.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || command -v google-chrome >/dev/null 2>&1 || [ -n "$${SMO_AUDIT_CHROMIUM:-}" ] \
	  || { if [ "$$(id -u)" = 0 ]; then \
	         (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	       else echo "Chromium is missing: run 'sudo apt-get install chromium' (needed by rendered mode and its tests)" >&2; exit 1; fi; }

# The Action's tests run its comment step's `--jq` filter with jq (on a runner, gh carries its own).
jq:
	@command -v jq >/dev/null 2>&1 \
	  || { if [ "$$(id -u)" = 0 ]; then \
	         (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq) >/dev/null; \
	       else echo "jq is missing: run 'sudo apt-get install jq' (needed by the Action's tests)" >&2; exit 1; fi; }

# setuptools announces every editable install made through its import finder (our package-dir
# mapping needs one) with an informational warning; it is not a problem, so it is not shown.
# Real packaging warnings stay visible (and the wheel test fails on them).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Bytecode for our own modules, as a regular install has: with PYTHONDONTWRITEBYTECODE set (it is
# on some machines) an editable install otherwise compiles every module from source at each start,
# in every CLI process the tests run. Stale files are harmless: Python checks them against the source.
bytecode: setup
	@$(BIN)/python -m compileall -q smo_audit rules >/dev/null

demo: setup bytecode
	$(BIN)/smo-audit demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy smo_audit rules

unit: setup jq bytecode
	$(BIN)/pytest

test: lint typecheck unit

bench: setup bytecode
	$(BIN)/python benchmarks/audit_benchmark.py

rules-doc: setup
	$(BIN)/python -m smo_audit.engine.docs > docs/rules.md
	$(BIN)/python -m smo_audit.engine.metadata > rules/metadata.json

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
