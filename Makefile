# Two commands get a newcomer going: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

LOCK := requirements.lock
LOCK_VENV := .lock-venv

.PHONY: demo test lint typecheck unit run bench clean lock

# Every dependency (runtime, dev and the setuptools that builds vakbot itself) comes from
# requirements.lock: exact versions, each checked against its SHA-256. vakbot itself is
# then installed without dependencies and without build isolation, so nothing unhashed is
# downloaded. Refresh the lock with `make lock`.
$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

lock:  ## refresh requirements.lock: newest versions allowed by pyproject.toml, with hashes
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip-tools
	$(LOCK_VENV)/bin/pip-compile --quiet --upgrade --generate-hashes --extra dev \
		--strip-extras --all-build-deps --allow-unsafe --no-emit-index-url \
		--no-emit-find-links -o $(LOCK) pyproject.toml
	rm -rf $(LOCK_VENV)

demo: $(BIN)/.installed  ## offline demo against the built-in fake Telegram
	$(BIN)/python -m bot demo $(if $(LANG_DEMO),--lang $(LANG_DEMO),)

test: $(BIN)/.installed lint typecheck unit  ## ruff, mypy --strict and pytest

lint: $(BIN)/.installed  ## ruff, and the layers' import rules (tools/import_rules.py)
	$(BIN)/ruff check .
	$(BIN)/python tools/import_rules.py

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest

run: $(BIN)/.installed  ## the real bot; needs $(CONFIG) and the secrets in the environment
	$(BIN)/python -m bot run --config $(CONFIG)

bench: $(BIN)/.installed  ## benchmarks, printed as a table
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOCK_VENV) demo-output .mypy_cache .ruff_cache .pytest_cache
