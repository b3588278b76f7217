# Two commands get a newcomer going: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: demo test lint typecheck unit run bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## offline demo against the built-in fake Telegram
	$(BIN)/python -m bot demo $(if $(LANG_DEMO),--lang $(LANG_DEMO),)

test: $(BIN)/.installed lint typecheck unit  ## ruff, mypy --strict and pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest

run: $(BIN)/.installed  ## the real bot; needs $(CONFIG) and the secrets in the environment
	$(BIN)/python -m bot run --config $(CONFIG)

bench: $(BIN)/.installed  ## benchmarks, printed as a table
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo-output .mypy_cache .ruff_cache .pytest_cache
