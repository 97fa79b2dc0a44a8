# tierstock — the two commands of the README quick start are `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install demo serve test screenshots lint bench bench-channels clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	scripts/fetch-web-assets.sh
	touch $@

demo: install            ## set up and run the live-stream burst demo on SQLite
	$(BIN)/tierstock demo

serve: install           ## the API (/docs) and the workbench (/web/) on 127.0.0.1:8000
	$(BIN)/tierstock serve

test: install            ## the whole suite, on SQLite and PostgreSQL, and in Chromium
	scripts/ensure-services.sh
	scripts/install-web-test-deps.sh
	$(BIN)/pytest

screenshots: install     ## refresh docs/screenshots/ from the browser tests
	scripts/ensure-services.sh
	scripts/install-web-test-deps.sh
	TIERSTOCK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/web -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install           ## the hot-SKU benchmark (README: Benchmarks); wrk drives HTTP
	scripts/ensure-services.sh
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench.hot_sku

bench-channels: install  ## one pool in two stores: oversell by rule, order intake, push storm (~9 min)
	scripts/ensure-services.sh
	$(BIN)/python -m bench.channels

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
