# musicrec: `make demo` and `make test` are the two commands a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# The demo is always the zero-install default: SQLite and inline tasks, whatever the shell says.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 OPENBLAS_NUM_THREADS=1

.PHONY: demo test lint format up bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-spark.txt | $(VENV)/bin/python
	$(PIP) install -r requirements-dev.txt
	touch $(VENV)/.installed-runtime $@

demo: $(VENV)/.installed-runtime
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo --if-empty
	$(DEMO_ENV) $(PY) manage.py retrain || [ $$? -eq 2 ]  # 2: refused by the gate, the active model stays
	$(DEMO_ENV) $(PY) manage.py demo_user
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Production-like: gunicorn, a Celery worker and beat against PostgreSQL and Redis (see README).
up: $(VENV)/.installed-dev
	@test -n "$$DATABASE_URL" || { echo "make up needs DATABASE_URL (postgres://...)"; exit 1; }
	@test -n "$$REDIS_URL" || { echo "make up needs REDIS_URL (redis://...)"; exit 1; }
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make up needs DJANGO_SECRET_KEY"; exit 1; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" OPENBLAS_NUM_THREADS=1 $(VENV)/bin/honcho start

bench: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 $(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
