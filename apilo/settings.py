"""Settings, all from the environment (see .env.example for every variable).

Defaults are production-safe: DEBUG is off, cookies are secure, HSTS is on and SECRET_KEY is
required. `make run` turns DEBUG on for local development; the test suite uses
apilo.settings_test, which sets its own environment before importing this module.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue as _Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env beside manage.py (written by `make run` for local development) fills in what the real
# environment leaves unset.
environ.Env.read_env(env.str("APILO_ENV_FILE", default="") or BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-insecure-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.views_errors.csrf_failure"
# Absolute base for links in e-mails (invitations, password resets).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "channels.apps.ChannelsConfig",
    "orders",
    "catalog",
    "sync",
    "fulfillment",
    "notifications",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.TenantMiddleware",
    "core.middleware.PrivateCacheMiddleware",
]

ROOT_URLCONF = "apilo.urls"
WSGI_APPLICATION = "apilo.wsgi.application"

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
                "django.template.context_processors.i18n",
                "core.context_processors.tenant",
                "channels.context_processors.channel_alerts",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Without DATABASE_URL the app runs on an embedded SQLite database in WAL mode, so a new user
# needs nothing installed; production and the test suite use PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'apilo.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker ------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="apilo"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("sentinel://"):
    # Redis behind Sentinel (docs/operations/scale.md): CELERY_BROKER_URL lists the sentinels,
    # "sentinel://10.0.0.1:26379/0;sentinel://10.0.0.2:26379/0", and they name the master.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "master_name": env("CELERY_BROKER_SENTINEL_MASTER", default="apilo"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery closes the database connection before and after every task unless this is set, so each
# task would pay for a new PostgreSQL connection (more than most of our tasks cost). It is then
# closed only every this many tasks; apilo/celery.py still applies CONN_MAX_AGE and the health
# check around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Queues (README "Workers"): journal polls, backfills and sweeps on "sync"; status pushes and
# labels on "push"; mail on "mail"; the beat ticks and everything else on the default queue
# ("celery"). A worker without -Q consumes all four; with a worker of its own for "sync" (-Q
# sync) and one for the rest (-Q celery,push,mail), a push never waits behind a backlog of
# polls (bin/run-dev, docker-compose.yml).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [_Queue(name) for name in ("celery", "sync", "push", "mail")]
CELERY_TASK_ROUTES = {
    "sync.tasks.poll_channel": {"queue": "sync"},
    "sync.tasks.backfill_channel": {"queue": "sync"},
    "sync.tasks.reconcile_channel": {"queue": "sync"},
    "sync.tasks.reconcile_all_channels": {"queue": "sync"},
    "sync.tasks.short_sweep_all_channels": {"queue": "sync"},
    "sync.tasks.short_sweep_channel": {"queue": "sync"},
    # The offer import reads Allegro like the order sync; the stock push writes like pushes.
    "catalog.tasks.sweep_offers_page": {"queue": "sync"},
    "catalog.tasks.poll_offer_events": {"queue": "sync"},
    "catalog.tasks.poll_due_offer_events": {"queue": "sync"},
    "catalog.tasks.push_offer_stock": {"queue": "push"},
    "catalog.tasks.sweep_stock_pushes": {"queue": "push"},
    "channels.tasks.poll_channel": {"queue": "sync"},
    "channels.tasks.backfill_channel": {"queue": "sync"},
    "channels.tasks.reconcile_channel": {"queue": "sync"},
    "channels.tasks.reconcile_all_channels": {"queue": "sync"},
    "fulfillment.tasks.push_order": {"queue": "push"},
    "fulfillment.tasks.push_orders": {"queue": "push"},
    "fulfillment.tasks.sweep_pushes": {"queue": "push"},
    "fulfillment.tasks.process_label": {"queue": "push"},
    "fulfillment.tasks.refresh_delivery_proposal": {"queue": "push"},
    "fulfillment.tasks.assemble_batch": {"queue": "push"},
    "fulfillment.tasks.fetch_protocol": {"queue": "push"},
    "fulfillment.tasks.propose_pickup": {"queue": "push"},
    "fulfillment.tasks.process_pickup": {"queue": "push"},
    "fulfillment.tasks.fetch_day_protocol": {"queue": "push"},
    "fulfillment.tasks.sweep_labels": {"queue": "push"},
    "notifications.send_mail": {"queue": "mail"},
    "notifications.send_platform_mail": {"queue": "mail"},
    "notifications.sweep_mail": {"queue": "mail"},
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat proves it is alive; /healthz calls beat stale after BEAT_STALE_AFTER seconds.
BEAT_HEARTBEAT_SECONDS = env.int("BEAT_HEARTBEAT_SECONDS", default=30)
BEAT_STALE_AFTER = env.int("BEAT_STALE_AFTER", default=180)
# /healthz shows its checks' details (errors, ages, versions) only to requests that send this
# token (`Authorization: Bearer <token>`); everyone else sees components, up/down and the status.
HEALTHZ_TOKEN = env("HEALTHZ_TOKEN", default="")
CELERY_BEAT_SCHEDULE = {
    # /healthz reads the timestamp this writes: it proves beat and a worker are alive.
    "beat-heartbeat": {
        "task": "core.tasks.beat_heartbeat",
        "schedule": float(BEAT_HEARTBEAT_SECONDS),
        "options": {"expires": float(BEAT_HEARTBEAT_SECONDS)},
    },
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["core.auth.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# How many proxies in front of the web server append the client's address to X-Forwarded-For
# (nginx, a load balancer): 0 = none, the client address is REMOTE_ADDR and X-Forwarded-For is
# ignored; N = the N-th address from the right of X-Forwarded-For is the client's. Anything a
# client writes into the header itself stays to the left of what the trusted proxies add.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Failed logins per (account, client address) before the login form refuses for a while.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
INVITATION_MAX_AGE = env.int("INVITATION_MAX_AGE", default=7 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Password-reset mails per address per hour; further requests look the same but send nothing.
PASSWORD_RESET_MAILS_PER_HOUR = env.int("PASSWORD_RESET_MAILS_PER_HOUR", default=3)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The language cookie (set by the language switcher) like the session cookie.
LANGUAGE_COOKIE_SECURE = env.bool("LANGUAGE_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'", *env.list("CSP_FORM_ACTION", default=[])],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
    }
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as each language writes them (02.12.2026 14:05 in Polish): apilo/formats/<lang>/.
FORMAT_MODULE_PATH = ["apilo.formats"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="Europe/Warsaw")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Shipping labels (PDF/ZPL) under the tenant's folder; no URL: only the label views,
    # which check the tenant, hand them out.
    "labels": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("LABEL_STORAGE_DIR", default=str(BASE_DIR / "var" / "labels")),
        },
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------------
# Account mails carry password-reset and invitation links: printed to the console they would
# land in the logs, so outside development the mail server must be configured, never guessed.
_EMAIL_URL = env("EMAIL_URL", default="")
if not _EMAIL_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "EMAIL_URL must be set when DEBUG is off, e.g. "
            "smtp+tls://user:password@smtp.example.com:587 (mail is never printed to the "
            "console outside development)."
        )
    _EMAIL_URL = "consolemail://"
EMAIL_CONFIG = env.email_url_config(_EMAIL_URL)
if not DEBUG and EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    raise ImproperlyConfigured(
        "EMAIL_URL=consolemail:// prints password-reset and invitation links to the logs; it is "
        "for development (DEBUG on) only. Set an SMTP server, e.g. "
        "smtp+tls://user:password@smtp.example.com:587."
    )
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="apilo <no-reply@apilo.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# --- Logging --------------------------------------------------------------------------------
# Every handler redacts the query strings of the OAuth callback (core/request_logging.py): the
# request lines of runserver ("django.server") and any message naming the callback URL.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_query_strings": {"()": "core.request_logging.RedactQueryStrings"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_query_strings"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_query_strings"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handlers for "django" (console in DEBUG, mail to ADMINS) are replaced by
        # ours, so nothing logs around the filter.
        "django": {"level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

REST_FRAMEWORK = {
    # Endpoints name their own (api.views.ApiView: the Bearer key, its scope and rate limit).
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "apilo API",
    "DESCRIPTION": (
        "Orders, statuses, sales channels, offers and products of one company. Authenticate with "
        "`Authorization: Bearer <key>` (Administracja → Klucze API). Every 4xx answers "
        "`{code, message, field}`; POSTs accept an `Idempotency-Key`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# Requests per minute of a new API key (each key may have its own).
API_DEFAULT_RATE_LIMIT_PER_MINUTE = env.int("API_DEFAULT_RATE_LIMIT_PER_MINUTE", default=150)
# Webhooks (docs/adr/0011-webhooks.md): each event for each subscription is a WebhookDelivery
# row written with the change; a task posts it, beat's sweeper re-dispatches rows that are due.
# Addresses resolving to private, loopback, link-local, multicast or reserved networks are
# refused on save and at send time, unless this is true (a deployment on a private network).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Seconds to connect and to wait for the receiver's answer (no redirect is followed).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# How long a sender owns a delivery it claimed; after it the sweeper sends it again (same
# event id). Longer than one attempt (connect + answer at WEBHOOK_TIMEOUT_SECONDS).
WEBHOOK_SEND_LEASE_SECONDS = env.float("WEBHOOK_SEND_LEASE_SECONDS", default=60.0)
# Retries: doubling from the base up to the maximum, each delay scaled by a random 50–100 %,
# until the delivery is this old; then it is failed.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
WEBHOOK_RETRY_FOR_SECONDS = env.float("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 3600.0)
# A subscription whose deliveries failed this many times in a row is turned off, and the
# company's administrators are told by e-mail.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=10)
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=30.0)
WEBHOOK_SWEEP_BATCH = env.int("WEBHOOK_SWEEP_BATCH", default=1000)
# The rate limit's sliding window: a key's limit counts the requests of the last this many seconds.
API_RATE_WINDOW_SECONDS = env.float("API_RATE_WINDOW_SECONDS", default=60.0)
# How long the answer to a POST with an Idempotency-Key is kept (and replayed); beat purges
# older ones every API_IDEMPOTENCY_PURGE_SECONDS.
API_IDEMPOTENCY_RETENTION_HOURS = env.float("API_IDEMPOTENCY_RETENTION_HOURS", default=24.0)
API_IDEMPOTENCY_PURGE_SECONDS = env.float("API_IDEMPOTENCY_PURGE_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE["api-idempotency-purge"] = {
    "task": "api.tasks.purge_idempotency_records",
    "schedule": API_IDEMPOTENCY_PURGE_SECONDS,
    "options": {"expires": API_IDEMPOTENCY_PURGE_SECONDS},
}

# --- Allegro ---------------------------------------------------------------------------------
# (Owned by the sales-channels app; see docs/adr/0002-allegro-tokens.md.)
# Fernet keys for secrets at rest: "kid1:<urlsafe-b64 32-byte key>,kid2:…"; the first encrypts,
# all decrypt. Rotate: put a new key first, run `manage.py reencrypt_secrets`, drop the old one.
# In DEBUG without keys a development-only key is derived from SECRET_KEY.
APILO_FERNET_KEYS = env("APILO_FERNET_KEYS", default="")


def _allegro_environment(
    name: str, auth_url: str, api_url: str, client_id: str = "", client_secret: str = ""
) -> dict[str, str]:
    prefix = f"ALLEGRO_{name.upper()}_"
    return {
        # An empty variable means "the default", as everywhere in .env.example.
        "auth_url": (env(prefix + "AUTH_URL", default="") or auth_url).rstrip("/"),
        "api_url": (env(prefix + "API_URL", default="") or api_url).rstrip("/"),
        "client_id": env(prefix + "CLIENT_ID", default="") or client_id,
        "client_secret": env(prefix + "CLIENT_SECRET", default="") or client_secret,
    }


# Every Allegro environment an account can pick; only those with a client id are offered.
ALLEGRO_ENVIRONMENTS = {
    "production": _allegro_environment(
        "production", "https://allegro.pl", "https://api.allegro.pl"
    ),
    "sandbox": _allegro_environment(
        "sandbox",
        "https://allegro.pl.allegrosandbox.pl",
        "https://api.allegro.pl.allegrosandbox.pl",
    ),
    # allegro_sandbox, started by `make run` with this client (DEBUG only by default).
    "local": _allegro_environment(
        "local",
        "http://127.0.0.1:8001" if DEBUG else "",
        "http://127.0.0.1:8001" if DEBUG else "",
        "apilo-local" if DEBUG else "",
        "apilo-local-secret" if DEBUG else "",
    ),
}
# The redirect URI registered for the client id(s) at Allegro (one per deployment).
ALLEGRO_REDIRECT_URI = (
    env("ALLEGRO_REDIRECT_URI", default="") or SITE_URL + "/channels/allegro/callback/"
)
# Allegro requires "AppName/version (+info URL)", the name being the app registered at Allegro.
ALLEGRO_USER_AGENT = env("ALLEGRO_USER_AGENT", default="apilo/0.1 (+https://github.com/apilo)")
# Deployment-wide budget per client id (Allegro: 9000/min, shared by every tenant).
ALLEGRO_RATE_LIMIT_PER_MINUTE = env.int("ALLEGRO_RATE_LIMIT_PER_MINUTE", default=9000)
# How long every worker pauses a client id after a 429 without Retry-After (seconds).
ALLEGRO_RATE_LIMIT_BLOCK_SECONDS = env.float("ALLEGRO_RATE_LIMIT_BLOCK_SECONDS", default=60.0)
# Longest a call waits for the token bucket before giving up with RateLimited (seconds).
ALLEGRO_RATE_LIMIT_MAX_WAIT_SECONDS = env.float("ALLEGRO_RATE_LIMIT_MAX_WAIT_SECONDS", default=30.0)
# Connect and read timeouts of every call to Allegro (seconds).
ALLEGRO_CONNECT_TIMEOUT = env.float("ALLEGRO_CONNECT_TIMEOUT", default=5.0)
ALLEGRO_READ_TIMEOUT = env.float("ALLEGRO_READ_TIMEOUT", default=30.0)
# Refresh an access token this long before it expires (capped at half its lifetime).
ALLEGRO_TOKEN_REFRESH_MARGIN_SECONDS = env.int("ALLEGRO_TOKEN_REFRESH_MARGIN_SECONDS", default=300)

# Order sync (docs/adr/0003-order-sync.md): journal polling, reconciliation, backfill.
# Beat computes the poll plan and enqueues a poll for every connected account that is due,
# every SYNC_POLL_TICK_SECONDS (at most SYNC_POLL_MIN_SECONDS, so the shortest interval holds).
SYNC_POLL_TICK_SECONDS = env.float("SYNC_POLL_TICK_SECONDS", default=2.0)
# The poll plan (sync/schedule.py, docs/adr/0013): SYNC_POLL_BUDGET_SHARE of
# ALLEGRO_RATE_LIMIT_PER_MINUTE is spent on journal polls (the rest is kept for form reads,
# pushes, labels, carriers and sweeps); an account whose last poll found events is polled again
# after the shortest interval that share allows, never below SYNC_POLL_MIN_SECONDS; an idle one
# waits twice as long after every empty poll, up to SYNC_POLL_IDLE_MAX_SECONDS (longer only when
# the budget cannot carry every account at that). SYNC_POLL_PLAN = "fixed" polls busy accounts
# every SYNC_POLL_BUSY_SECONDS instead, whatever the budget (the schedule before the plan).
SYNC_POLL_PLAN = env("SYNC_POLL_PLAN", default="budget")
SYNC_POLL_BUDGET_SHARE = env.float("SYNC_POLL_BUDGET_SHARE", default=0.5)
SYNC_POLL_MIN_SECONDS = env.float("SYNC_POLL_MIN_SECONDS", default=2.0)
SYNC_POLL_BUSY_SECONDS = env.float("SYNC_POLL_BUSY_SECONDS", default=15.0)
SYNC_POLL_IDLE_MAX_SECONDS = env.float("SYNC_POLL_IDLE_MAX_SECONDS", default=60.0)
# After failed polls the next one waits busy × 2^failures, at most this long (seconds).
SYNC_POLL_BACKOFF_MAX_SECONDS = env.float("SYNC_POLL_BACKOFF_MAX_SECONDS", default=600.0)
# One poll works at most this long, then yields (the account is due again at once).
SYNC_POLL_MAX_SECONDS = env.float("SYNC_POLL_MAX_SECONDS", default=30.0)
# Events read per /order/events request (1–1000) and checkout forms per committed batch.
SYNC_EVENTS_PAGE_SIZE = env.int("SYNC_EVENTS_PAGE_SIZE", default=500)
SYNC_FORMS_PER_BATCH = env.int("SYNC_FORMS_PER_BATCH", default=100)
# Extra attempts of one GET after a network error or a 5xx, within a poll/sweep/backfill page.
SYNC_GET_RETRIES = env.int("SYNC_GET_RETRIES", default=2)
# A checkout form Allegro still answers 5xx for after the retries is set aside and the journal
# moves on (at most SYNC_SET_ASIDE_MAX_PER_POLL per poll; more means Allegro is failing broadly
# and the poll stops). Each poll retries up to SYNC_STUCK_RETRIES_PER_POLL due ones, backing off
# from SYNC_POLL_BUSY_SECONDS up to SYNC_STUCK_RETRY_MAX_SECONDS.
SYNC_SET_ASIDE_MAX_PER_POLL = env.int("SYNC_SET_ASIDE_MAX_PER_POLL", default=20)
# A form that fails on its own (5xx, no answer in time) is read again after the poll's other
# forms, in SYNC_GET_RETRIES rounds; before each a pause from SYNC_FORM_RETRY_PAUSE_SECONDS,
# doubling up to SYNC_FORM_RETRY_MAX_PAUSE_SECONDS, with jitter (half to all of it).
SYNC_FORM_RETRY_PAUSE_SECONDS = env.float("SYNC_FORM_RETRY_PAUSE_SECONDS", default=0.2)
SYNC_FORM_RETRY_MAX_PAUSE_SECONDS = env.float("SYNC_FORM_RETRY_MAX_PAUSE_SECONDS", default=2.0)
# Forms of new purchases and payments in the journal are read through the list endpoint
# (updatedAt since their events, 100 per request) when at least SYNC_LIST_MIN_FORMS of them
# are in one batch; forms it does not serve as new as their events are read one by one.
SYNC_LIST_READS = env.bool("SYNC_LIST_READS", default=True)
SYNC_LIST_MIN_FORMS = env.int("SYNC_LIST_MIN_FORMS", default=2)
SYNC_STUCK_RETRIES_PER_POLL = env.int("SYNC_STUCK_RETRIES_PER_POLL", default=10)
SYNC_STUCK_RETRY_MAX_SECONDS = env.float("SYNC_STUCK_RETRY_MAX_SECONDS", default=3600.0)
# Reconciliation through /order/checkout-forms: every SYNC_RECONCILE_INTERVAL_SECONDS over the
# last SYNC_RECONCILE_WINDOW_HOURS, and nightly at SYNC_RECONCILE_NIGHTLY_AT (UTC, HH:MM) over
# the last SYNC_RECONCILE_NIGHTLY_WINDOW_HOURS.
SYNC_RECONCILE_INTERVAL_SECONDS = env.float("SYNC_RECONCILE_INTERVAL_SECONDS", default=3600.0)
SYNC_RECONCILE_WINDOW_HOURS = env.int("SYNC_RECONCILE_WINDOW_HOURS", default=48)
SYNC_RECONCILE_NIGHTLY_AT = env("SYNC_RECONCILE_NIGHTLY_AT", default="01:30")
SYNC_RECONCILE_NIGHTLY_WINDOW_HOURS = env.int("SYNC_RECONCILE_NIGHTLY_WINDOW_HOURS", default=168)
# A sweep upserts but does not count as "missed by the journal" forms changed this recently.
SYNC_RECONCILE_GRACE_SECONDS = env.float("SYNC_RECONCILE_GRACE_SECONDS", default=120.0)
# The short sweep: every SYNC_SHORT_SWEEP_SECONDS (0 = off) one request per account for the
# forms changed in the last SYNC_SHORT_SWEEP_WINDOW_SECONDS (newest first, at most
# SYNC_SHORT_SWEEP_PAGES pages of 100), for orders whose journal events Allegro lost.
SYNC_SHORT_SWEEP_SECONDS = env.float("SYNC_SHORT_SWEEP_SECONDS", default=180.0)
SYNC_SHORT_SWEEP_WINDOW_SECONDS = env.float("SYNC_SHORT_SWEEP_WINDOW_SECONDS", default=900.0)
SYNC_SHORT_SWEEP_PAGES = env.int("SYNC_SHORT_SWEEP_PAGES", default=1)
# Backfill: pages of 100 forms per task before it re-enqueues itself, and after how long without
# progress a pending/running backfill is re-dispatched by the poll tick (crash recovery).
SYNC_BACKFILL_PAGES_PER_TASK = env.int("SYNC_BACKFILL_PAGES_PER_TASK", default=20)
SYNC_BACKFILL_STALE_SECONDS = env.float("SYNC_BACKFILL_STALE_SECONDS", default=120.0)

# Fulfillment push (docs/adr/0004-fulfillment-outbox.md): the outbox of changes out to Allegro.
# Beat runs the sweeper this often (seconds).
FULFILLMENT_SWEEP_SECONDS = env.float("FULFILLMENT_SWEEP_SECONDS", default=10.0)
# A pending push not sent this long after it was written (or after its last try) is
# re-dispatched by the sweeper: the broker lost the message or the worker died (seconds).
FULFILLMENT_REDISPATCH_AFTER_SECONDS = env.float(
    "FULFILLMENT_REDISPATCH_AFTER_SECONDS", default=15.0
)
# Backoff after a failed try: first retry after this many seconds, doubling up to the maximum.
FULFILLMENT_RETRY_BASE_SECONDS = env.float("FULFILLMENT_RETRY_BASE_SECONDS", default=2.0)
FULFILLMENT_RETRY_MAX_SECONDS = env.float("FULFILLMENT_RETRY_MAX_SECONDS", default=300.0)
# How long a push waits while its channel is not connected before it is looked at again.
FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS = env.float(
    "FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS", default=60.0
)
# Orders the sweeper re-dispatches per tick at most.
FULFILLMENT_SWEEP_BATCH = env.int("FULFILLMENT_SWEEP_BATCH", default=2000)
# On: dispatch a push task when the change commits (normal). Off: leave every push to the
# sweeper — only the benchmark's baseline (bench/push_lag.py) turns this off.
FULFILLMENT_DISPATCH_ON_COMMIT = env.bool("FULFILLMENT_DISPATCH_ON_COMMIT", default=True)
# Orders one push task sends at most when a change (a bulk change, an import) or a sweep
# dispatches many at once; each batch is one task, the batches spread over the workers.
FULFILLMENT_DISPATCH_BATCH = env.int("FULFILLMENT_DISPATCH_BATCH", default=10)
# A push task also sends up to this many other orders of its tenant whose first try is overdue
# (their own tasks still queued: the workers are behind) — 0 switches it off …
FULFILLMENT_TAKE_WAITING = env.int("FULFILLMENT_TAKE_WAITING", default=50)
# … overdue: written this many seconds ago and not tried yet.
FULFILLMENT_TAKE_WAITING_AFTER_SECONDS = env.float(
    "FULFILLMENT_TAKE_WAITING_AFTER_SECONDS", default=1.0
)
# The sweeper skips a tick while the broker's queue holds more messages than this: the workers
# are behind and the due rows' tasks are still on their way (no duplicates).
FULFILLMENT_SWEEP_MAX_BACKLOG = env.int("FULFILLMENT_SWEEP_MAX_BACKLOG", default=500)
# How old a channel's stored list of carriers (/order/carriers) may get before beat fetches it
# again (seconds).
FULFILLMENT_CARRIERS_CACHE_SECONDS = env.int("FULFILLMENT_CARRIERS_CACHE_SECONDS", default=86400)
# After a failed fetch of the list (or while a fetch waits in the queue), beat tries again this
# much later.
FULFILLMENT_CARRIERS_RETRY_SECONDS = env.int("FULFILLMENT_CARRIERS_RETRY_SECONDS", default=600)
# Beat looks for due lists this often, and fetches at most this many per tick, so the lists never
# crowd out the order polls in the client id's shared budget.
FULFILLMENT_CARRIERS_SWEEP_SECONDS = env.float("FULFILLMENT_CARRIERS_SWEEP_SECONDS", default=60.0)
FULFILLMENT_CARRIERS_SWEEP_BATCH = env.int("FULFILLMENT_CARRIERS_SWEEP_BATCH", default=50)


def _sync_beat_schedule() -> dict:
    from celery.schedules import crontab

    hour, _sep, minute = SYNC_RECONCILE_NIGHTLY_AT.partition(":")
    return {
        "sync-poll-tick": {
            "task": "sync.tasks.poll_due_channels",
            "schedule": SYNC_POLL_TICK_SECONDS,
            "options": {"expires": SYNC_POLL_TICK_SECONDS},
        },
        "sync-reconcile-recent": {
            "task": "sync.tasks.reconcile_all_channels",
            "schedule": SYNC_RECONCILE_INTERVAL_SECONDS,
            "kwargs": {"window_hours": SYNC_RECONCILE_WINDOW_HOURS},
            "options": {"expires": SYNC_RECONCILE_INTERVAL_SECONDS},
        },
        "sync-reconcile-nightly": {
            "task": "sync.tasks.reconcile_all_channels",
            "schedule": crontab(hour=int(hour), minute=int(minute or 0)),
            "kwargs": {"window_hours": SYNC_RECONCILE_NIGHTLY_WINDOW_HOURS},
            "options": {"expires": 3600.0},
        },
        **(
            {
                "sync-short-sweep": {
                    "task": "sync.tasks.short_sweep_all_channels",
                    "schedule": SYNC_SHORT_SWEEP_SECONDS,
                    "options": {"expires": SYNC_SHORT_SWEEP_SECONDS},
                }
            }
            if SYNC_SHORT_SWEEP_SECONDS > 0
            else {}
        ),
    }


CELERY_BEAT_SCHEDULE.update(_sync_beat_schedule())


# Fulfillment push (docs/adr/0004-fulfillment-outbox.md): the sweeper re-dispatches pushes to
# Allegro that are due (lost broker message, dead worker, retry after a failure).
CELERY_BEAT_SCHEDULE["fulfillment-sweep"] = {
    "task": "fulfillment.tasks.sweep_pushes",
    "schedule": FULFILLMENT_SWEEP_SECONDS,
    "options": {"expires": FULFILLMENT_SWEEP_SECONDS},
}
# Carriers for shipments (fulfillment/services/carriers.py): beat fetches each channel's list
# from Allegro when it is missing or a day old; pages only read the stored lists.
CELERY_BEAT_SCHEDULE["fulfillment-carriers"] = {
    "task": "fulfillment.tasks.refresh_due_carriers",
    "schedule": FULFILLMENT_CARRIERS_SWEEP_SECONDS,
    "options": {"expires": FULFILLMENT_CARRIERS_SWEEP_SECONDS},
}


# Mail outbox (docs/adr/0007-mail-outbox.md): every e-mail is an OutgoingMail row first; a task
# sends it, beat's sweeper re-dispatches rows that are due or whose sender died mid-send.
MAIL_SMTP_TIMEOUT = env.float("MAIL_SMTP_TIMEOUT", default=20.0)
# How long a sender owns a row it claimed; after it the sweeper sends the row again (same
# Message-ID). Longer than a whole SMTP exchange at MAIL_SMTP_TIMEOUT per step.
MAIL_SEND_LEASE_SECONDS = env.float("MAIL_SEND_LEASE_SECONDS", default=300.0)
MAIL_RETRY_BASE_SECONDS = env.float("MAIL_RETRY_BASE_SECONDS", default=60.0)
MAIL_RETRY_MAX_SECONDS = env.float("MAIL_RETRY_MAX_SECONDS", default=3600.0)
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=10)
MAIL_SWEEP_SECONDS = env.float("MAIL_SWEEP_SECONDS", default=30.0)
MAIL_SWEEP_BATCH = env.int("MAIL_SWEEP_BATCH", default=1000)
CELERY_BEAT_SCHEDULE["api-webhook-sweep"] = {
    "task": "api.sweep_webhooks",
    "schedule": WEBHOOK_SWEEP_SECONDS,
    "options": {"expires": WEBHOOK_SWEEP_SECONDS},
}
CELERY_BEAT_SCHEDULE["notifications-mail-sweep"] = {
    "task": "notifications.sweep_mail",
    "schedule": MAIL_SWEEP_SECONDS,
    "options": {"expires": MAIL_SWEEP_SECONDS},
}
# Allegro's sender addresses of each channel (the relay guard's list), read again daily.
CELERY_BEAT_SCHEDULE["notifications-sender-addresses"] = {
    "task": "notifications.refresh_all_sender_addresses",
    "schedule": 24 * 3600.0,
    "options": {"expires": 3600.0},
}
# Offer import (docs/adr/0015-offer-import.md): beat reads every channel's offer events this
# often (and resumes sweeps whose task stopped beating for CATALOG_SWEEP_STALE_SECONDS).
CATALOG_OFFER_EVENTS_SECONDS = env.float("CATALOG_OFFER_EVENTS_SECONDS", default=60.0)
CATALOG_OFFER_EVENT_PAGES = env.int("CATALOG_OFFER_EVENT_PAGES", default=10)
CATALOG_SWEEP_STALE_SECONDS = env.float("CATALOG_SWEEP_STALE_SECONDS", default=600.0)
# Offer details read for their EAN per page of 1000 offers (the listing carries none).
CATALOG_OFFER_EAN_READS_PER_PAGE = env.int("CATALOG_OFFER_EAN_READS_PER_PAGE", default=50)
CELERY_BEAT_SCHEDULE["catalog-offer-events"] = {
    "task": "catalog.tasks.poll_due_offer_events",
    "schedule": CATALOG_OFFER_EVENTS_SECONDS,
    "options": {"expires": CATALOG_OFFER_EVENTS_SECONDS},
}
# Labels through Wysyłam z Allegro (docs/adr/0009-labels-wza.md): unfinished labels whose next
# look is due (a command still IN_PROGRESS past the task's own retries, a lost message).
LABELS_SWEEP_SECONDS = env.int("LABELS_SWEEP_SECONDS", default=30)
CELERY_BEAT_SCHEDULE["fulfillment-labels"] = {
    "task": "fulfillment.tasks.sweep_labels",
    "schedule": LABELS_SWEEP_SECONDS,
    "options": {"expires": LABELS_SWEEP_SECONDS},
}
# Stock sent to offers (docs/adr/0017-stock-push.md): each offer's quantity is an OfferStockPush
# row first; a task sends its command, reads how Allegro applied it, and beat's sweeper
# re-dispatches rows that are due (a lost message, a worker that died mid-send, a retry).
STOCK_PUSH_SWEEP_SECONDS = env.float("STOCK_PUSH_SWEEP_SECONDS", default=10.0)
STOCK_PUSH_SWEEP_BATCH = env.int("STOCK_PUSH_SWEEP_BATCH", default=1000)
# A row written this long ago and still waiting is re-dispatched by the sweeper; also how long a
# sender owns a command it is sending before another may take it over (seconds).
STOCK_PUSH_LEASE_SECONDS = env.float("STOCK_PUSH_LEASE_SECONDS", default=60.0)
# How soon after a command was accepted its result is read, and then between reads (seconds).
STOCK_PUSH_CHECK_SECONDS = env.float("STOCK_PUSH_CHECK_SECONDS", default=2.0)
STOCK_PUSH_RETRY_BASE_SECONDS = env.float("STOCK_PUSH_RETRY_BASE_SECONDS", default=10.0)
STOCK_PUSH_RETRY_MAX_SECONDS = env.float("STOCK_PUSH_RETRY_MAX_SECONDS", default=900.0)
# A channel authorized without the offers' write scope is looked at again this often (seconds).
STOCK_PUSH_SCOPE_RETRY_SECONDS = env.float("STOCK_PUSH_SCOPE_RETRY_SECONDS", default=600.0)
CELERY_BEAT_SCHEDULE["catalog-stock-push-sweep"] = {
    "task": "catalog.tasks.sweep_stock_pushes",
    "schedule": STOCK_PUSH_SWEEP_SECONDS,
    "options": {"expires": STOCK_PUSH_SWEEP_SECONDS},
}
