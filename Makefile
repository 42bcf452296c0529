# interfirm-kg: `make run` sets up, builds and serves; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test run test lint fmt clean

# the package alone (what `make run` needs)
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# the package with the test extra (pytest, ruff, playwright, hypothesis, schemathesis, SPARQLWrapper)
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

run: install
	$(BIN)/kg build
	$(BIN)/kg serve --host 127.0.0.1 --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools

fmt: install-test
	$(BIN)/kg fmt
	$(BIN)/ruff format src tests tools

clean:
	rm -rf $(VENV) .kg .pytest_cache
