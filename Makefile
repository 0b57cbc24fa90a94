# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Stamps: serving installs what serving needs; testing adds the test extra on top.
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test serve test test-fast clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	touch $@ $(SERVE_STAMP)

install: $(SERVE_STAMP)

install-test: $(TEST_STAMP)

serve: install
	HF_HUB_OFFLINE=1 $(BIN)/docsearch serve

test: install-test
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

test-fast: install-test
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) .docsearch .pytest_cache *.egg-info
