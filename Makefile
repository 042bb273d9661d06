# The README's commands. `make demo` and `make test` set everything up on a fresh machine first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run serve demo test lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test,bench]"
	touch $@

run serve: setup
	$(BIN)/jimeng-api serve

demo: setup
	$(BIN)/jimeng-api demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app config
	@# bytecode for the services and emulators the tests start (each would compile the app again from source where
	@# PYTHONDONTWRITEBYTECODE is set): about 4 % of the suite's time
	$(BIN)/python -m compileall -q app config wsgi.py >/dev/null
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app config

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
