# Terminfinder: `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres test-sqlite install install-dev migrate demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	@echo "Installing dependencies into $(VENV) ..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	@echo "Installing dependencies and test tools into $(VENV) ..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The demo: SQLite in var/, DEBUG on, an embedded Redis, web + both worker groups + the
# scheduler under one supervisor (Ctrl-C stops them all). Demo logins are printed first.
run: export DJANGO_DEBUG = 1
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo_data
	$(PY) -m terminfinder.devstack --host $(HOST) --port $(PORT)

# Every test on a real PostgreSQL started by the harness, then the suite again on SQLite.
test: install-dev
	$(PY) -m pytest
	TEST_DATABASE=sqlite $(PY) -m pytest -q

test-postgres: install-dev
	$(PY) -m pytest

test-sqlite: install-dev
	TEST_DATABASE=sqlite $(PY) -m pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
