# storesync: every target installs what it needs into .venv (locked versions, uv.lock).
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
UV := .tools/bin/uv
BIN := $(VENV)/bin
export STORESYNC_DATA_DIR ?= $(CURDIR)/var
TEST_DATA_DIR := $(CURDIR)/var/test
PG_TEST_URL ?= postgres://storesync@127.0.0.1:5432/storesync
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: run install install-dev test test-pg lint typecheck bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --no-dev --python $(PYTHON)

install-dev: $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --python $(PYTHON)

## run: install, migrate the embedded database, load the demo, serve on http://127.0.0.1:8000 with the worker
run: install
	$(BIN)/storesync migrate --verbosity 0
	$(BIN)/storesync demo --if-empty
	$(BIN)/storesync serve --host 127.0.0.1 --port 8000 --sandboxes

## test: install dev dependencies and run the whole suite on the embedded default (SQLite)
test: install-dev
	STORESYNC_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/pytest -n 2 --dist loadfile

## test-pg: the suite against PostgreSQL and Redis (role with CREATEDB, not a superuser: RLS applies)
test-pg: install-dev
	STORESYNC_DATA_DIR=$(TEST_DATA_DIR)-pg STORESYNC_DATABASE_URL=$(PG_TEST_URL) \
	STORESYNC_REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest -n 2 --dist loadfile

lint: install-dev
	$(BIN)/ruff check
	$(BIN)/lint-imports
	STORESYNC_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/mypy src/storesync
	STORESYNC_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/python -m django makemigrations --check --dry-run --settings=storesync.settings

## bench: run the benchmarks and write docs/benchmarks.md
bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .tools var
