# Lockbox: `make run` starts everything on a fresh clone; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run test test-reliability fuzz-api bench lint format install install-dev migrate clean

# Runtime only (what production installs): requirements.txt.
$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements.txt
	touch $(STAMP)

# Tests and tooling on top: requirements-dev.txt.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $(DEV_STAMP)

# The demo identity provider `make run` starts beside the app (demo_idp/, SPEC 14).
$(DEMO_STAMP): $(STAMP) demo_idp/requirements.txt
	$(PIP) -r demo_idp/requirements.txt
	touch $(DEMO_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput

run: install $(DEMO_STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo_if_empty
	DEBUG=$${DEBUG:-true} PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

test-reliability: install-dev
	$(BIN)/pytest -m reliability -s $(PYTEST_ARGS)

# schemathesis against a running gunicorn, as a Global Administrator and as a support engineer.
fuzz-api: install-dev
	bash .ci/fuzz-api

# Needs this machine's PostgreSQL and Redis (BENCH_PG, BENCH_BROKER) and wrk; BENCH_SCALE=0.05 for a quick run.
bench: install-dev
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m bench

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/celery var/*.sqlite3* staticfiles
