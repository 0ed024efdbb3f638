# The two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
# The interpreter for a new .venv; by default python3.12 (pyenv's shims follow .python-version).
PYTHON ?=
export DEBUG ?= 1

.PHONY: run test install migrate seed lint format worker clean bench

$(PY):
	@PYBIN=""; \
	for c in $(PYTHON) python3.12 python3 python3.13; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then PYBIN=$$c; break; fi; \
	done; \
	if [ -z "$$PYBIN" ]; then echo "error: Python 3.12 or newer is needed (see .python-version); install it and retry." >&2; exit 1; fi; \
	echo "Creating $(VENV) with $$($$PYBIN --version)"; \
	$$PYBIN -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 && UVBIN=uv || { [ -x $(UV) ] || $(PY) -m pip install --quiet uv; UVBIN=$(UV); }; \
	UV_PROJECT_ENVIRONMENT=$(VENV) $$UVBIN sync --frozen --python $(PY)
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --once

# The web server, the task worker (emails, reminders) and the periodic-job scheduler; Ctrl-C
# stops all three. RUN_BACKGROUND=0 serves the web pages alone.
RUN_BACKGROUND ?= 1
LOG_DIR := $(or $(VAR_DIR),var)
run: seed
	@echo "Serving on http://$(HOST):$(PORT)/"
	@trap 'kill 0' EXIT INT TERM; \
	if [ "$(RUN_BACKGROUND)" = 1 ]; then \
	  mkdir -p $(LOG_DIR); \
	  $(PY) manage.py task_worker --reload >> $(LOG_DIR)/worker.log 2>&1 & \
	  $(PY) manage.py crontask >> $(LOG_DIR)/scheduler.log 2>&1 & \
	  echo "Task worker and scheduler started (logs in $(LOG_DIR)/worker.log and scheduler.log)"; \
	fi; \
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(PY) manage.py task_worker

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The benchmark (not part of the tests; a few minutes): pgbench, pages and the booking storm on
# PostgreSQL and SQLite side by side. Needs wrk (apt-get install wrk). See bench/run_all.py.
bench: install
	$(PY) bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
