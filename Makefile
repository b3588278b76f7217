# Two commands get a newcomer going: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

LOCK := requirements.lock
LOCK_VENV := .lock-venv

.PHONY: demo console test lint typecheck unit run bench clean lock chromium postgres

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

console: $(BIN)/.installed  ## the web console over the demo's database (runs the demo first if needed)
	$(BIN)/python -m bot.demo_console --port $(or $(PORT),8080)

test: $(BIN)/.installed chromium postgres lint typecheck unit  ## ruff, mypy --strict and pytest

lint: $(BIN)/.installed  ## ruff, and the layers' import rules (tools/import_rules.py)
	$(BIN)/ruff check .
	$(BIN)/python tools/import_rules.py

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed chromium postgres
	$(BIN)/pytest

# The console's browser tests drive Debian's chromium (Playwright's own download cannot
# be fetched here). Installed when missing and we are root; otherwise one line saying how.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "The browser tests need Debian's chromium: run 'sudo apt-get install -y chromium', then make test again." >&2; exit 1; fi; }

# The storage contract and the PostgreSQL adapter's tests run on a real PostgreSQL, which
# the tests start themselves (tests/pg_server.py: initdb into a temporary folder, an
# unprivileged user, stopped at the end). Debian's server is installed when missing and
# we are root; otherwise one line saying how (the tests then skip, and fail under CI).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
		else echo "The PostgreSQL tests need Debian's postgresql: run 'sudo apt-get install -y postgresql', then make test again." >&2; exit 1; fi; }

run: $(BIN)/.installed  ## the real bot; needs $(CONFIG) and the secrets in the environment
	$(BIN)/python -m bot run --config $(CONFIG)

bench: $(BIN)/.installed  ## benchmarks, printed as a table
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOCK_VENV) demo-output .mypy_cache .ruff_cache .pytest_cache
