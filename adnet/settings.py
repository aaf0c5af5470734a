"""Settings for adnet, read from the environment so one module serves every deployment."""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ADNET_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_json_object(name: str) -> dict[str, str]:
    """A JSON object of strings, e.g. CHAIN_RPC_URLS='{"eip155:8453": "https://..."}'."""
    value = os.environ.get(name, "").strip()
    if not value:
        return {}
    parsed = json.loads(value)
    if not isinstance(parsed, dict) or not all(isinstance(v, str | int) for v in parsed.values()):
        raise ValueError(f"{name} must be a JSON object of network to value")
    return {str(k): str(v) for k, v in parsed.items()}


DEBUG = env_bool("DEBUG", False)


def development_secret(path: Path) -> str:
    """A random key made once per checkout (var/secret_key), so the quick start and tests
    never sign with a key anyone else knows; production sets SECRET_KEY."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY_FROM_ENVIRONMENT = bool(os.environ.get("SECRET_KEY"))
SECRET_KEY = os.environ.get("SECRET_KEY") or development_secret(VAR_DIR / "secret_key")
# Placement tokens (beacons, click links): "kid:secret" entries, the first signs, all verify
# (adnet/core/signing.py). Unset: a development key derived from SECRET_KEY.
TOKEN_SIGNING_KEYS = env_list("TOKEN_SIGNING_KEYS", [])
# Signed recommendations (compact JWS, Ed25519; adnet/core/jws.py): "kid:seed" entries, the
# first signs, all are published at /.well-known/jwks.json. Unset: a development key.
RECOMMENDATION_SIGNING_KEYS = env_list("RECOMMENDATION_SIGNING_KEYS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
PORT = env_int("PORT", 8000)
# Publishing a task must fail fast when Redis is down: the inbox sweeper catches up later.
CELERY_TASK_PUBLISH_RETRY = False
# Beacon and click URLs go to agents on other machines, so they must be absolute; when
# unset they are built from the Host of the match request.
PUBLIC_BASE_URL = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/")

# Behind TLS (HTTPS=1, what production sets): secure cookies, redirects, HSTS. Health
# probes stay reachable over plain HTTP inside the network.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
# On by default with HTTPS (what `check --deploy` asks for); turn them off with the env if
# some subdomain of the public host is not served over TLS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
# A reverse proxy terminating TLS says so in X-Forwarded-Proto (only trust it behind one).
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "adnet.admin_config.AdnetAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "facilitators",
    "campaigns",
    "billing",
    "reports",
    "events",
    "accounts",
    # The composition root's own management commands (runloops).
    "adnet",
]

MIDDLEWARE = [
    "adnet.metrics.MetricsMiddleware",
    "adnet.core.requestid.RequestIdMiddleware",
    "adnet.core.middleware.BodySizeLimitMiddleware",
    "adnet.core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "adnet.urls"
WSGI_APPLICATION = "adnet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL when DATABASE_URL is set, an SQLite file otherwise (the try-it default).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A sick database must turn into a fast 503, never a hung request: connecting is
        # bounded by connect_timeout, every other wait by the request's deadline
        # (adnet.core.deadline, REQUEST_DEADLINE_MS) through this backend.
        DATABASES["default"]["ENGINE"] = "adnet.core.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"].setdefault(
            "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 2)
        )
        DATABASES["default"]["OPTIONS"].setdefault(
            "options", f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 5000)}"
        )
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "adnet.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every web request's database work ends within this many milliseconds: a hung PostgreSQL
# costs a request a 503, never a worker (adnet.core.deadline). Report pages and exports
# (these path prefixes) may take as long as REPORTS_STATEMENT_TIMEOUT_MS instead.
REQUEST_DEADLINE_MS = env_int("REQUEST_DEADLINE_MS", 2500)
REQUEST_DEADLINE_SLOW_PATHS = ("/admin/reports/", "/v1/reports/")
# After a request gave up on PostgreSQL (a wait ran out, connecting failed), this process's
# requests answer 503 at once for this long instead of trying to connect again.
DB_RETRY_AFTER_MS = env_int("DB_RETRY_AFTER_MS", 1000)

# --- Redis: cache and Celery broker when REDIS_URL is set; local memory and files otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Each loop's last success (adnet.loops), read by every process.
    CACHES["loops"] = {**CACHES["default"], "KEY_PREFIX": "adnet-loops"}
    CELERY_BROKER_URL = REDIS_URL
    # Redis going away must neither slow the API down nor stop the worker (tests/faults):
    # - max_retries=0: a publish tries the connection once. kombu's default keeps retrying
    #   for about 6 s, which held every POST /v1/events that long; the inbox sweeper is the
    #   retry. The worker's reconnect loop uses broker_connection_max_retries, not this.
    # - ack_emulation=False: with it, a worker that loses Redis while a task runs tries to
    #   restore its unacked messages through the closed connection and dies ("Unrecoverable
    #   error: AttributeError ... 'hostname'", celery/kombu 5.7). Redelivery by the broker is
    #   not what recovers work here: the event inbox's lease and sweeper do, and every other
    #   task is periodic (beat runs it again).
    # - socket_connect_timeout: a Redis that drops packets instead of refusing them costs a
    #   publish a quarter of a second, not the operating system's connect timeout.
    # - socket_timeout: a Redis that hangs on an open connection fails a publish after 2 s
    #   instead of holding the request until Redis answers again; above kombu's 1 s BRPOP
    #   timeout, so an idle worker's wait for tasks is not cut short.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "max_retries": 0,
        "ack_emulation": False,
        "socket_connect_timeout": 0.25,
        "socket_timeout": 2.0,
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Each loop's last success (adnet.loops): files, so that web processes read it too.
        "loops": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "loops"),
        },
    }
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, writing each message whole (adnet.fsbroker).
    CELERY_BROKER_TRANSPORT = "adnet.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Where kombu keeps its exchange tables (by default "control/" in the working directory).
        "control_folder": str(_broker_dir / "control"),
        # How long the worker sleeps when it finds nothing it may take. kombu's default of
        # 1 s, with one task taken at a time, delivered about one task a second (issue 29),
        # slower than settlement events arrive.
        "polling_interval": 0.1,
    }

# --- Matching's budget store. With Redis, /v1/match takes its budget step in one Redis
# script that spends slices of budget granted from PostgreSQL, and its records go to a Redis
# stream that the worker writes to PostgreSQL in batches (campaigns.budget, .journal).
# Without Redis (the try-it default) or while Redis is unreachable, matching holds budget
# and writes its records in PostgreSQL directly. The grants and the batch writes use
# PostgreSQL's SQL, so with SQLite matching stays in the database even when Redis is set.
_ON_POSTGRES = DATABASES["default"]["ENGINE"] == "adnet.core.postgresql"
MATCH_BUDGET_STORE = os.environ.get(
    "MATCH_BUDGET_STORE", "redis" if REDIS_URL and _ON_POSTGRES else "database"
)
BUDGET_REDIS_PREFIX = os.environ.get("BUDGET_REDIS_PREFIX", "adnet:")
# A grant lasts about GRANT_TARGET_SECONDS of the campaign's recent delivery, between
# GRANT_MIN_HOLDS and GRANT_MAX_HOLDS placements' worth; it is topped up when half is spent.
GRANT_MIN_HOLDS = env_int("GRANT_MIN_HOLDS", 100)
GRANT_MAX_HOLDS = env_int("GRANT_MAX_HOLDS", 100_000)
GRANT_TARGET_SECONDS = env_int("GRANT_TARGET_SECONDS", 10)
JOURNAL_BATCH = env_int("JOURNAL_BATCH", 2000)

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One task at a time from Redis. The filesystem broker hands out a few at once: each look
# at its folder while a task runs costs up to its polling interval, which had left the
# worker waiting more than working. A worker killed with -9 loses the few it held (the
# event inbox's sweeper dispatches their events again).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1 if REDIS_URL else 4
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the database connection before and after every task unless
# this is set; it then closes it every this many tasks. Between, the worker keeps its
# connection as the web server does (CONN_MAX_AGE, health check): adnet.celery.
CELERY_DB_REUSE_MAX = env_int("WORKER_DB_REUSE_MAX", 1000)
# Settlement events go to the worker as Celery tasks with a Redis broker. The filesystem
# broker cannot carry a task per event on a busy machine: the inbox loop (adnet.loops)
# takes them from the inbox table instead, every EVENT_INBOX_SECONDS.
EVENTS_VIA_BROKER = env_bool("EVENTS_VIA_BROKER", bool(REDIS_URL))
# Work due every few seconds runs as long-lived loops (adnet.loops, `manage.py runloops`):
# seconds between the end of one run and the start of the next.
LOOP_INTERVALS = {
    "drain-match-journal": 1.0,
    "top-up-budget-grants": 2.0,
    "attribute-settlements": float(env_int("ATTRIBUTION_SWEEP_SECONDS", 2)),
    "release-expired-holds": 15.0,
    "sweep-event-inbox": float(env_int("EVENT_SWEEP_SECONDS", 10)),
    "process-event-inbox": float(env_int("EVENT_INBOX_SECONDS", 1)),
}
# A loop whose run fails waits twice as long after each failure in a row, up to this.
LOOPS_MAX_BACKOFF_SECONDS = env_int("LOOPS_MAX_BACKOFF_SECONDS", 60)
# Beat keeps minute-scale housekeeping: a few messages a minute, which any broker carries.
CELERY_BEAT_SCHEDULE = {
    # The delivery history every server process's catalog reads once a minute.
    "publish-delivery-history": {
        "task": "campaigns.tasks.publish_delivery_history",
        "schedule": 60.0,
    },
    "reap-budget-grants": {"task": "campaigns.tasks.reap_grants", "schedule": 30.0},
    "reconcile-ledger": {
        "task": "billing.tasks.reconcile",
        "schedule": 300.0,
    },
    "complete-ended-campaigns": {
        "task": "campaigns.tasks.complete_ended_campaigns",
        "schedule": 60.0,
    },
    # Reports: today rebuilt every minute (fresh within 2 minutes), the last closed days
    # every 10 minutes for late events, and a daily check of the rollups against raw rows.
    "roll-up-today": {
        "task": "reports.tasks.roll_up_today",
        "schedule": float(env_int("REPORTS_ROLLUP_SECONDS", 60)),
    },
    "roll-up-recent": {
        "task": "reports.tasks.roll_up_recent",
        "schedule": float(env_int("REPORTS_LATE_SECONDS", 600)),
    },
    "reconcile-rollups": {
        "task": "reports.tasks.reconcile_rollups",
        "schedule": crontab(minute=30, hour=0),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
WHITENOISE_USE_FINDERS = True
# Above this the request never reaches a parser (see adnet.core.middleware).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 16 * 1024)
# Batches of up to 500 settlement events.
API_MAX_BATCH_BODY_BYTES = env_int("API_MAX_BATCH_BODY_BYTES", 1024 * 1024)
API_BATCH_PATHS = ("/v1/events",)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["facilitators.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["adnet.core.json_body.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["facilitators.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "adnet.core.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "adnet API",
    "DESCRIPTION": (
        "Sponsored recommendations for x402 settlements. Facilitators call `POST /v1/match` "
        "after every settlement; advertisers and operators manage campaigns. Every error has "
        'the body `{"error": {"code", "message", "details"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"TransportEnum": ["http", "mcp", "a2a"]},
}

# --- Product settings.
# A placement's beacon and click tokens live this long when the placement bills impressions.
IMPRESSION_TTL_SECONDS = env_int("IMPRESSION_TTL_SECONDS", 15 * 60)
# The settlement-event inbox: a claim's lease, and when a pending event is dispatched again.
EVENT_LEASE_SECONDS = env_int("EVENT_LEASE_SECONDS", 120)
EVENT_REDISPATCH_SECONDS = env_int("EVENT_REDISPATCH_SECONDS", 30)
EVENT_MAX_ATTEMPTS = env_int("EVENT_MAX_ATTEMPTS", 5)
# A conversion is billed only with both transaction hashes; evidence may arrive this long
# after the attribution window before the placement's hold goes back unbilled.
EVIDENCE_GRACE_SECONDS = env_int("EVIDENCE_GRACE_SECONDS", 600)
# A placement's click link lives this long (CPC placements).
CLICK_TTL_SECONDS = env_int("CLICK_TTL_SECONDS", 3600)
# Even pacing lets a campaign commit its daily budget in proportion to the time of day,
# looking this far ahead so that delivery can start right after midnight.
PACING_LOOKAHEAD_SECONDS = env_int("PACING_LOOKAHEAD_SECONDS", 900)
# Requests per API key, by kind of key (django-ratelimit "N/s|m|h|d" rates).
API_RATE_LIMITS = {
    "facilitator": os.environ.get("RATE_LIMIT_FACILITATOR", "6000/m"),
    "advertiser": os.environ.get("RATE_LIMIT_ADVERTISER", "600/m"),
    "operator": os.environ.get("RATE_LIMIT_OPERATOR", "1200/m"),
}
# Admin sign-in attempts per client address; refused outright when they cannot be counted.
ADMIN_LOGIN_RATE = os.environ.get("ADMIN_LOGIN_RATE", "10/m")

# Password-reset mail of the admin (Django's own flow). The console in development;
# production sets EMAIL_BACKEND and the SMTP settings.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "adnet@localhost")
# Password-reset requests (django-ratelimit rates): per address asked for, per client.
PASSWORD_RESET_RATE_PER_ADDRESS = os.environ.get("PASSWORD_RESET_RATE_PER_ADDRESS", "3/h")
PASSWORD_RESET_RATE_PER_CLIENT = os.environ.get("PASSWORD_RESET_RATE_PER_CLIENT", "10/h")
RATELIMIT_FAIL_OPEN = False
# Impression beacons per client address; over it they get the usual answer, uncounted.
BEACON_RATE = os.environ.get("BEACON_RATE", "600/m")
# How long a process trusts its cached answer for an API key (revocations elsewhere take
# at most this long to apply; in the revoking process they apply at once).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 2)
# Placements per payer per campaign per UTC day when a campaign sets no frequency_cap.
DEFAULT_FREQUENCY_CAP = env_int("DEFAULT_FREQUENCY_CAP", 20)
# Reports (see ARCHITECTURE.md, "Reports"): how many closed days are rebuilt again for
# late events, how long hourly rows are kept, how many days the daily check covers, the
# rollup lag /healthz calls stale, and the statement timeout of rollup and export queries.
REPORTS_LATE_DAYS = env_int("REPORTS_LATE_DAYS", 2)
REPORTS_HOURLY_DAYS = env_int("REPORTS_HOURLY_DAYS", 7)
REPORTS_RECONCILE_DAYS = env_int("REPORTS_RECONCILE_DAYS", 35)
REPORTS_MAX_LAG_SECONDS = env_int("REPORTS_MAX_LAG_SECONDS", 120)
REPORTS_STATEMENT_TIMEOUT_MS = env_int("REPORTS_STATEMENT_TIMEOUT_MS", 60000)

# GET /metrics answers only these client addresses or networks (comma-separated, e.g.
# "127.0.0.1,10.0.0.0/8") when set; anyone when unset. See docs/operations.md.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
# The Celery queue whose depth /metrics reports (Celery's default queue name).
METRICS_CELERY_QUEUE = os.environ.get("METRICS_CELERY_QUEUE", "celery")

# Health (adnet.health): each probe of the database or the broker answers within this; the
# journal's oldest record, the Celery queue's depth, and its growth over a minute beyond
# which the deployment is degraded.
HEALTH_PROBE_TIMEOUT_MS = env_int("HEALTH_PROBE_TIMEOUT_MS", 1000)
HEALTH_JOURNAL_MAX_LAG_SECONDS = env_int("HEALTH_JOURNAL_MAX_LAG_SECONDS", 30)
HEALTH_QUEUE_MAX_TASKS = env_int("HEALTH_QUEUE_MAX_TASKS", 500)
HEALTH_QUEUE_MAX_GROWTH = env_int("HEALTH_QUEUE_MAX_GROWTH", 100)

# JSON lines with the request id by default; LOG_FORMAT=text for people reading a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "adnet.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "adnet.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if os.environ.get("LOG_FORMAT") == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# The worker logs through the same handlers, instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Evidence on chain (evidence/chains.py): a JSON-RPC URL per CAIP-2 network, how deep an
# EVM transaction must be, which token counts (USDC by default), and what a network without
# an RPC does: `required` (wait, then expire unbilled) or `trusted` (bill as unverified).
CHAIN_RPC_URLS = env_json_object("CHAIN_RPC_URLS")
CHAIN_CONFIRMATIONS = env_json_object("CHAIN_CONFIRMATIONS")
CHAIN_ASSETS = env_json_object("CHAIN_ASSETS")
CHAIN_POLICIES = env_json_object("CHAIN_POLICIES")
CHAIN_DEFAULT_POLICY = os.environ.get("CHAIN_DEFAULT_POLICY", "trusted")
CHAIN_RPC_TIMEOUT_SECONDS = float(os.environ.get("CHAIN_RPC_TIMEOUT_SECONDS", "5"))
