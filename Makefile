# TreeBeard IR: `make run` (demo on :8000) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/treebeard
TEST_REDIS_URL := redis://127.0.0.1:6379/15
TEST_WORKERS ?= 2

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Embedded defaults (SQLite + filesystem broker under var/) unless
# DATABASE_URL / REDIS_URL are set. Safe to run again: migrations and the
# demo seeder are idempotent.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho -f Procfile start

# Real PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL / REDIS_URL override;
# tests/settings.py holds the defaults, so a bare `pytest` runs the same way).
# Two pytest-xdist workers, each with its own test database and cache keys.
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks print ratios against a baseline measured in the same run.
BENCHES := bench/ingest.py bench/timers.py bench/hostile_inputs.py bench/hostile_ingest.py bench/statuspage.py

bench: install
	@for b in $(BENCHES); do echo "== $$b"; \
	  DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	  $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var
