# The two commands of the README: `make run` and `make test`.
# Both create the virtual environment .venv from pyproject.toml on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TIME_LIMIT ?= 120

.PHONY: run test lint clients clean

$(BIN)/scheduler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## run: solve the bundled sample conference in inputs/ and write outputs/
run: $(BIN)/scheduler
	$(BIN)/scheduler run inputs --out outputs --time-limit $(TIME_LIMIT)

## clients: the real calendar/browser clients the tests use (ical.js via npm)
clients:
	cd tests/clients && npm install --silent --no-audit --no-fund

## test: the whole test suite
test: $(BIN)/scheduler
	@if [ -f tests/clients/package.json ] && command -v npm >/dev/null; then $(MAKE) --no-print-directory clients; fi
	$(BIN)/python -m pytest -n auto

lint: $(BIN)/scheduler
	$(BIN)/ruff check scheduler tests bench notebooks
	$(BIN)/ruff format --check scheduler tests bench notebooks docs README.md
	$(BIN)/mypy

clean:
	rm -rf $(VENV) outputs
