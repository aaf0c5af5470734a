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

.PHONY: install run test test-chain test-fuzz test-faults test-e2e test-browser smoke soak lint check check-deploy ci bench bench-reports clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --locked --quiet

# Quiet: the server's and worker's logs go to var/log/; the terminal ends with the demo's
# key, sign-ins and a curl to paste (var/demo.txt, written anew each start).
run: install
	@mkdir -p var/log
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py seeddemo --demo-accounts --base-url http://$(HOST):$(PORT) > var/demo.txt
	@HOST=$(HOST) PORT=$(PORT) BANNER=var/demo.txt scripts/serve

# The whole suite except the quick-start smoke test (which `make smoke` runs), the
# fault-injection tests with real processes (`make test-faults`), the end-to-end tests
# (`make test-e2e`) and the schema fuzzing (`make test-fuzz`). It includes the facilitator
# kit's own tests (facilitator-kit/tests).
test: install
	$(PY) -m pytest -m "not smoke and not faults and not e2e and not browser and not fuzz and not chain" -q

# Evidence checked on a real chain: anvil (a local EVM node from npm) with a USDC-like token.
test-chain: install node_modules/.package-lock.json
	$(PY) -m pytest -m chain -q

# Redis stopped, a worker killed with -9, PostgreSQL unreachable: real uWSGI, Celery
# worker and redis-server processes (needs DATABASE_URL, REDIS_URL and /usr/bin/redis-server);
# Debian's nginx in front of uWSGI with deploy/nginx.conf.
test-faults: install
	@test -x /usr/sbin/nginx || apt-get install -y nginx || (apt-get update && apt-get install -y nginx)
	$(PY) -m pytest -m faults -q

# The whole loop with real processes: the ad network (uWSGI, Celery worker with beat,
# a private redis-server, PostgreSQL), a real x402 facilitator with the facilitator kit's
# hook, the SDK's resource server and paying agent; and the hook's added settle latency.
# Needs DATABASE_URL, REDIS_URL and /usr/bin/redis-server, like test-faults.
test-e2e: install
	$(PY) -m pytest -m e2e -q

# The npm tools some stages run (anvil, solc, axe-core), from package-lock.json.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Each person's first hour (tests/browser) and the report pages in headless Chromium,
# driven by the playwright package; every page visited is checked with axe-core (npm, see
# package-lock.json). Debian's chromium only: `playwright install` (a browser download of
# its own) is never run. A screenshot of every page goes to test-artifacts/, which CI keeps
# as its artefacts.
test-browser: install node_modules/.package-lock.json
	@test -x /usr/bin/chromium || apt-get install -y chromium || \
		(apt-get update && apt-get install -y chromium)
	$(PY) -m pytest -m browser -q

# schemathesis against /v1/schema: every operation, with a valid key of a kind that may
# call it; no 5xx, every status documented, every response matching its schema.
test-fuzz: install
	$(PY) -m pytest -m fuzz -q

smoke: install
	$(PY) -m pytest -m smoke -q

# The embedded default (no DATABASE_URL/REDIS_URL, in a temporary directory) for SOAK_SECONDS
# (300) under 5 matches and 5 events a second: fails unless the broker queue stays flat,
# every event is processed within 10 s and rollups stay under 2 minutes old.
soak: install
	timeout --signal=TERM $$(( $${SOAK_SECONDS:-300} + 300 )) $(PY) scripts/soak.py

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
	$(PY) scripts/bench_reports.py $(BENCH_REPORTS_ARGS)

# The reports alone: a month of 1,000,000 placements generated in PostgreSQL, rollups
# rebuilt, the overview page timed and the month's CSV export streamed (worker memory sampled).
bench-reports: install
	$(PY) scripts/bench_reports.py $(BENCH_REPORTS_ARGS)

# Django's deployment checklist with the settings production uses (HTTPS, a real key).
check-deploy: install
	DEBUG=0 HTTPS=1 ALLOWED_HOSTS=ads.example.org \
	SECRET_KEY=$$($(PY) -c "import secrets; print(secrets.token_urlsafe(50))") \
	TOKEN_SIGNING_KEYS=ci:$$($(PY) -c "import secrets; print(secrets.token_urlsafe(32))") \
	RECOMMENDATION_SIGNING_KEYS=$$($(PY) manage.py newsigningkey ci) \
	$(PY) manage.py check --deploy --fail-level WARNING

ci: lint check check-deploy test test-chain test-faults test-e2e test-fuzz smoke test-browser

clean:
	rm -rf .venv $(TOOLS) var staticfiles .pytest_cache node_modules
