# Lockbox: `make run` starts everything on a fresh clone; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run dev test coverage test-reliability fuzz-api bench lint format install install-dev migrate clean

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

# `make run PORT=8001` serves on another port; e-mail links (LOCKBOX_BASE_URL) follow it.
PORT ?= 8000
VAR_DIR := $(or $(LOCKBOX_VAR_DIR),var)
BASE_URL := $(or $(LOCKBOX_BASE_URL),http://127.0.0.1:$(PORT))
# `make run` is the product as it is served (DEBUG off: its own error pages, gunicorn), on
# plain http at 127.0.0.1 with a key generated once under var/.
RUN_ENV := DEBUG=false SECRET_KEY_FILE=$(VAR_DIR)/dev-secret-key ALLOWED_HOSTS=127.0.0.1,localhost \
	SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false \
	SECURE_HSTS_SECONDS=0 LOCKBOX_PORT=$(PORT) LOCKBOX_BASE_URL=$(BASE_URL)
# `make dev`: Django's debug pages and runserver, a developer's opt-in.
DEV_ENV := DEBUG=true LOCKBOX_PORT=$(PORT) LOCKBOX_BASE_URL=$(BASE_URL)

$(VAR_DIR)/dev-secret-key:
	mkdir -p $(VAR_DIR)
	$(BIN)/python -c "import secrets, sys; open(sys.argv[1], 'w').write(secrets.token_urlsafe(50))" $@

run: install $(DEMO_STAMP) $(VAR_DIR)/dev-secret-key
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo_if_empty
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho -f Procfile.dev start

dev: install $(DEMO_STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo_if_empty
	$(DEV_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho -f Procfile.debug start

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite with a line-coverage report (coverage's tracer about doubles the suite's time).
coverage: install-dev
	$(BIN)/pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

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
