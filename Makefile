# adnet: `make run` to try it, `make test` to prove it. Everything installs from pyproject.toml/uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Use the machine's Python 3.11; never download an interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= $(PYTHON)

.PHONY: install run test test-faults smoke lint check ci bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --locked --quiet

run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seeddemo --base-url http://$(HOST):$(PORT)
	HOST=$(HOST) PORT=$(PORT) scripts/serve

# The whole suite except the quick-start smoke test (which `make smoke` runs) and the
# fault-injection tests with real processes (which `make test-faults` runs).
test: install
	$(PY) -m pytest -m "not smoke and not faults" -q

# Redis stopped, a worker killed with -9, PostgreSQL unreachable: real gunicorn, Celery
# worker and redis-server processes (needs DATABASE_URL, REDIS_URL and /usr/bin/redis-server).
test-faults: install
	$(PY) -m pytest -m faults -q

smoke: install
	$(PY) -m pytest -m smoke -q

lint: install
	$(PY) -m ruff check .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Benchmarks against the real server on PostgreSQL and Redis (needs wrk: apt-get install wrk).
bench: install
	@command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(PY) scripts/bench.py $(BENCH_ARGS)

ci: lint check test test-faults smoke

clean:
	rm -rf .venv $(TOOLS) var staticfiles .pytest_cache
