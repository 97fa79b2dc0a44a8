# tierstock — the two commands of the README quick start are `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install demo serve test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: install            ## set up and run the live-stream burst demo on SQLite
	$(BIN)/tierstock demo

serve: install           ## run the REST API on http://127.0.0.1:8000/docs
	$(BIN)/tierstock serve

test: install            ## the whole suite, on SQLite and PostgreSQL
	scripts/ensure-services.sh
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	scripts/ensure-services.sh
	$(BIN)/python -m bench.hot_sku

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
