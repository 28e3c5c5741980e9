"""TreeBeard IR settings: one module, every value from the environment.

See README.md ("Configuration") for the list of variables. Malformed values
raise ImproperlyConfigured naming the variable (treebeard_ir/env.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import (
    database_from_url,
    email_from_url,
    env_bool,
    env_clock_time,
    env_dates,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_time_zone,
    env_url,
    env_weekdays,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TREEBEARD_VAR_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/.

    A generated key beats a hard-coded one: a forgotten variable never ships a
    key that is public on GitHub.
    """
    key = env_str("SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()

SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")
_site = urlsplit(SITE_URL)
SECURE = _site.scheme == "https"

STATUS_PAGE_HOST = env_str("STATUS_PAGE_HOST", "status.treebeard.com").lower()
if "/" in STATUS_PAGE_HOST or " " in STATUS_PAGE_HOST:
    raise ImproperlyConfigured(
        f"STATUS_PAGE_HOST={STATUS_PAGE_HOST!r} must be a bare host name, not a URL."
    )

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", _site.hostname or "localhost"]
)
if STATUS_PAGE_HOST not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(STATUS_PAGE_HOST)
if (_site.hostname or "").lower() == STATUS_PAGE_HOST:
    raise ImproperlyConfigured(
        f"STATUS_PAGE_HOST={STATUS_PAGE_HOST!r} must differ from the host of SITE_URL: "
        "the status host serves nothing but the public status page."
    )
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

# The public status page's identity in its JSON (Statuspage's ``page``): a
# 12-character id (by default derived from the host, so it stays put), the
# company name, and the time zone its timestamps are written in.
STATUS_PAGE_ID = env_str(
    "STATUS_PAGE_ID",
    "".join(
        "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]
        for b in hashlib.sha256(STATUS_PAGE_HOST.encode()).digest()[:12]
    ),
)
STATUS_PAGE_NAME = env_str("STATUS_PAGE_NAME", "TreeBeard")
STATUS_PAGE_TIME_ZONE = env_time_zone("STATUS_PAGE_TIME_ZONE", "Etc/UTC")
# Its logo and header links.
# A path on this site (/static/…) or an https:// URL, whose origin the
# Content-Security-Policy then allows for images (below).
STATUS_PAGE_LOGO_URL = env_str("STATUS_PAGE_LOGO_URL", "")
if STATUS_PAGE_LOGO_URL and not STATUS_PAGE_LOGO_URL.startswith("/"):
    env_url("STATUS_PAGE_LOGO_URL", STATUS_PAGE_LOGO_URL, schemes=("https", "http"))
if STATUS_PAGE_LOGO_URL.startswith("//"):
    raise ImproperlyConfigured("STATUS_PAGE_LOGO_URL must be a /path or an https:// URL.")


def _status_page_links(name: str) -> list[tuple[str, str]]:
    """``Home=https://treebeard.com,Support=https://help.treebeard.com``."""
    links = []
    for item in env_list(name, []):
        label, sep, url = item.partition("=")
        if not sep or not label.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not Label=https://…")
        url = env_url(name, "", schemes=("https", "http"), environ={name: url.strip()})
        links.append((label.strip(), url))
    return links


STATUS_PAGE_LINKS = _status_page_links("STATUS_PAGE_LINKS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "incidents",
    "postmortems",
    "statuspage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A current pre-rendered status page is answered here, before the rest
    # (the headers the rest added to its first answer are replayed).
    "statuspage.fastpath.FastPathMiddleware",
    # Early, so answers that a later middleware returns carry the policy too.
    "csp.middleware.CSPMiddleware",
    "incidents.api.errors.ApiBodyLimitMiddleware",
    # NUL in a path or query: 400 naming it, before any lookup (incidents/request_guards.py).
    "incidents.request_guards.UrlTextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions, CSRF and auth: on the status host, everything but the
    # status page's own paths is a cookie-less 404 (treebeard_ir/hosts.py).
    "treebeard_ir.hosts.StatusHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which would answer an oversized form with a bare 400.
    "incidents.request_guards.OversizedFormMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Which entry point (API, admin, dashboard) each audited change came through.
    "incidents.audit.EntryPointMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it turns a refused sign-in into our lockout page (treebeard_ir/signin.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "treebeard_ir.urls"
WSGI_APPLICATION = "treebeard_ir.wsgi.application"

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
                "incidents.dashboard.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'treebeard.sqlite3'}")
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is broker and cache. Without REDIS_URL the demo runs on embedded
# defaults that need no server: kombu's filesystem transport and a file cache
# under var/, both shared by the web server, the worker and beat.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, schemes=("redis", "rediss", "unix"))
    CELERY_BROKER_URL = REDIS_URL
    # max_retries=0: a web request publishing while Redis is down fails fast
    # (the outbox row stays and the relay publishes it later) instead of
    # blocking for kombu's reconnect loop. Workers reconnect on their own
    # (broker_connection_retry), unaffected by this option.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600, "max_retries": 0}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tbir",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    _broker = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (_broker / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "out"),
        "data_folder_out": str(_broker / "out"),
        "processed_folder": str(_broker / "processed"),
        "store_processed": False,
        "control_folder": str(_broker / "control"),
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Business hours: the guide's P3 "next business day" (incidents/business_hours.py)
# and the time the daily digest goes out.
BUSINESS_TIME_ZONE = env_time_zone("BUSINESS_TIME_ZONE", "UTC")
BUSINESS_HOURS_START = env_clock_time("BUSINESS_HOURS_START", "09:00")
BUSINESS_HOURS_END = env_clock_time("BUSINESS_HOURS_END", "17:00")
if BUSINESS_HOURS_END <= BUSINESS_HOURS_START:
    raise ImproperlyConfigured(
        f"BUSINESS_HOURS_END={BUSINESS_HOURS_END!r} must be later than "
        f"BUSINESS_HOURS_START={BUSINESS_HOURS_START!r}."
    )
BUSINESS_DAYS = env_weekdays("BUSINESS_DAYS", [1, 2, 3, 4, 5])
BUSINESS_HOLIDAYS = env_dates("BUSINESS_HOLIDAYS")
DIGEST_TIME = env_clock_time("DIGEST_TIME", "09:00")

# Celery: work that must not be lost (DESIGN.md "Time-driven rules").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Crontab entries (the daily digest) are read in the business time zone;
# messages and timestamps stay in UTC (enable_utc).
CELERY_TIMEZONE = BUSINESS_TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The SLA engine (incidents/engine/). Deadlines are rows
# a frequent sweep claims, never long ETAs (celery #2599); every beat entry
# expires, so a backlog published while no worker ran does not pile up.
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 5, minimum=1)
NOTIFY_RELAY_SECONDS = env_int("NOTIFY_RELAY_SECONDS", 15, minimum=1)
# /readyz fails when a due deadline or an undelivered notification is older.
ENGINE_STALL_SECONDS = env_int("ENGINE_STALL_SECONDS", 120, minimum=1)
# One-click "Acknowledge" links in paging emails stop working after this.
ACK_LINK_MAX_AGE_SECONDS = env_int("ACK_LINK_MAX_AGE_SECONDS", 24 * 3600, minimum=60)
# Post-mortems (postmortems/): P0/P1 get one on resolution; drills only
# when this is on (or on request).
POSTMORTEM_FOR_DRILLS = env_bool("POSTMORTEM_FOR_DRILLS", False)
# The status page's fast path asks Redis for the page's version at most this
# often per process (0: on every request); a change shows within it.
STATUS_PAGE_VERSION_CHECK_MS = env_int("STATUS_PAGE_VERSION_CHECK_MS", 50, minimum=0)
# Subscribers are reminded of a scheduled maintenance this long before it
# starts (a Deadline row, statuspage/engine.py); 0 sends no reminder.
STATUS_PAGE_MAINTENANCE_REMINDER_MINUTES = env_int(
    "STATUS_PAGE_MAINTENANCE_REMINDER_MINUTES", 60, minimum=0
)
# Action items: the owner is reminded this many days before the due date
# (an item is overdue at the end of its due date, UTC).
ACTION_ITEM_REMINDER_DAYS = env_int("ACTION_ITEM_REMINDER_DAYS", 2, minimum=0)
_digest_hour, _digest_minute = DIGEST_TIME.split(":")
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "incidents.sweep_deadlines",
        "schedule": float(SLA_SWEEP_SECONDS),
        "options": {"expires": max(SLA_SWEEP_SECONDS * 2, 10)},
    },
    "relay-notifications": {
        "task": "incidents.relay_notifications",
        "schedule": float(NOTIFY_RELAY_SECONDS),
        "options": {"expires": max(NOTIFY_RELAY_SECONDS * 2, 30)},
    },
    "send-digest": {
        "task": "incidents.send_digest",
        "schedule": crontab(hour=int(_digest_hour), minute=int(_digest_minute)),
        "options": {"expires": 3600},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes, treebeard_ir/signin.py): after
# AXES_FAILURE_LIMIT failed sign-ins for one username from one address, that
# pair is refused for AXES_COOLOFF_MINUTES, on /accounts/login/ and
# /admin/login/ alike. Attempts are rows (database handler), so
# `manage.py axes_reset_username USER` unlocks and each test starts clean.
# API tokens never go through authenticate(), so they are not throttled here.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during the cool-off is not recorded: the cool-off ends when
# the page says it does, and a client hammering a locked pair cannot grow its
# row with every request body.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "treebeard_ir.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "treebeard_ir.signin.client_ip"
AXES_USERNAME_CALLABLE = "treebeard_ir.signin.client_username"
AXES_HANDLER = "treebeard_ir.signin.AxesHandler"
# Reverse proxies in front of gunicorn that each append to X-Forwarded-For.
# 0 (the default) trusts only the connection's address (REMOTE_ADDR): a header
# the client writes itself must not choose whose failures are counted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Password-reset requests per hour, per client address and per email address.
PASSWORD_RESET_MAX_PER_HOUR = env_int("PASSWORD_RESET_MAX_PER_HOUR", 5, minimum=1)
PASSWORD_RESET_TIMEOUT = 3600  # a reset link works for one hour

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# HTTPS hardening follows SITE_URL: on for https://, off for local http://.
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own
# static files, so an injected <script>, style="" or onclick="" does nothing.
# Pages keep no inline code (tests/test_csp.py scans the templates); htmx's
# indicator <style> and its eval features are switched off in base.html.
_logo = urlsplit(STATUS_PAGE_LOGO_URL)
_logo_origin = [f"{_logo.scheme}://{_logo.netloc}"] if _logo.netloc else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_logo_origin],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Email: EMAIL_URL, or the usual EMAIL_* variables.
_email = email_from_url("EMAIL_URL")
if _email:
    globals().update(_email)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "TreeBeard IR <incidents@treebeard.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

PAGERDUTY_EVENTS_URL = env_url(
    "PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue", schemes=("http", "https")
)
NOTIFY_ALLOWED_NETWORKS = env_networks("NOTIFY_ALLOWED_NETWORKS")
# Outbound notification requests (incidents/notify/http.py), in seconds: short,
# so a slow receiver delays one delivery, not the worker's queue.
NOTIFY_CONNECT_TIMEOUT = env_float("NOTIFY_CONNECT_TIMEOUT", 3.0, minimum=0.1)
NOTIFY_READ_TIMEOUT = env_float("NOTIFY_READ_TIMEOUT", 10.0, minimum=0.1)

# The notification outbox (incidents/notify/outbox.py).
# A delivery claimed by a worker that then dies is retried after the lease.
NOTIFY_LEASE_SECONDS = env_float("NOTIFY_LEASE_SECONDS", 60.0, minimum=1.0)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 10, minimum=1)
# Exponential backoff: base * 2^(attempt-1), capped; a 429's Retry-After wins.
NOTIFY_RETRY_BASE_SECONDS = env_float("NOTIFY_RETRY_BASE_SECONDS", 5.0, minimum=0.01)
NOTIFY_RETRY_MAX_SECONDS = env_float("NOTIFY_RETRY_MAX_SECONDS", 900.0, minimum=0.01)
# Rows still undelivered this long after their due time are re-enqueued by the relay.
NOTIFY_RELAY_GRACE_SECONDS = env_float("NOTIFY_RELAY_GRACE_SECONDS", 10.0, minimum=0.0)
# Caps so an alert flood cannot exhaust the mail provider; nothing is dropped:
# over the per-incident cap a row is kept as "suppressed", over the per-minute
# cap delivery waits.
NOTIFY_EMAIL_MAX_PER_INCIDENT = env_int("NOTIFY_EMAIL_MAX_PER_INCIDENT", 25, minimum=1)
NOTIFY_EMAIL_MAX_PER_MINUTE = env_int("NOTIFY_EMAIL_MAX_PER_MINUTE", 30, minimum=1)
# "Send a test" (contact methods and channels): at most this many per person per window.
NOTIFY_TEST_MAX_PER_PERSON = env_int("NOTIFY_TEST_MAX_PER_PERSON", 5, minimum=1)
NOTIFY_TEST_WINDOW_SECONDS = env_int("NOTIFY_TEST_WINDOW_SECONDS", 600, minimum=1)


def _rate(name: str, default: str) -> str:
    """A DRF rate such as ``1200/min``: requests per second, minute, hour or day."""
    value = env_str(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/([smhd]|(sec|second|min|minute|hour|day)s?)", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate; use requests/period, e.g. 1200/min or 50/s."
        )
    return value


API_RATE_USER = _rate("API_RATE_USER", "1200/min")
API_RATE_ANON = _rate("API_RATE_ANON", "60/min")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidents.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Strict JSON (incidents/safejson.py): hostile bodies are a 400 naming the field.
    "DEFAULT_PARSER_CLASSES": [
        "incidents.api.parsers.SafeJSONParser",
        "incidents.api.parsers.SafeFormParser",
        "incidents.api.parsers.SafeMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "incidents.api.errors.api_exception_handler",
    # Read API_RATE_USER / API_RATE_ANON at request time (incidents/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "incidents.api.throttling.UserRateThrottle",
        "incidents.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"user": API_RATE_USER, "anon": API_RATE_ANON},
}
# Bodies over 1 MiB are refused (413) by incidents.api.errors.ApiBodyLimitMiddleware.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# /api/schema/ and /api/docs/ need a session or a token unless this is on.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

SPECTACULAR_SETTINGS = {
    "TITLE": "TreeBeard IR API",
    "DESCRIPTION": "Incidents, alerts, on-call and notifications of TreeBeard IR.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Status",
        "OpenStatusEnum": "incidents.models.OPEN_STATUS_CHOICES",
        "AlertStatusEnum": "incidents.models.AlertStatus",
        "TimelineEventKindEnum": "incidents.models.EventKind",
        "IntegrationKindEnum": "incidents.models.IntegrationKind",
        "ChannelKindEnum": "incidents.models.ChannelKind",
        "SeverityEnum": "incidents.models.Severity",
        "IncidentSourceEnum": "incidents.models.Source",
        "ShiftSourceEnum": "incidents.oncall.ShiftSource",
        "MaintenanceStatusEnum": "statuspage.models.MaintenanceStatus",
        # The status page's management API (statuspage/api/).
        "ComponentStatusEnum": "statuspage.models.ComponentStatus",
        "PublicIncidentStatusEnum": "statuspage.models.PublicStatus",
        "SubscriberKindEnum": "statuspage.models.SubscriberKind",
        "ActionItemStatusEnum": "postmortems.models.ActionStatus",
        "ActionItemKindEnum": "postmortems.models.ActionKind",
        "ActionItemPriorityEnum": "postmortems.models.Priority",
        "TrackerKindEnum": "postmortems.models.TrackerKind",
    },
}

# Error reports (DEBUG page, ADMINS e-mail) star credential-named variables and
# POST fields and redact URL secrets as the logs do.
DEFAULT_EXCEPTION_REPORTER = "treebeard_ir.error_reports.SecretsExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "treebeard_ir.error_reports.SecretsExceptionReporterFilter"

# Every handler rewrites secrets in URLs (integration, ack-link, calendar and
# password-reset tokens) before a line is written: treebeard_ir/redact.py. The
# loggers that write request paths carry the filter too, so a record is
# redacted at its source, whatever handler (a test's, an operator's) sees it.
# ``django`` and ``django.server`` are named here because Django's own
# DEFAULT_LOGGING gives them handlers without the filter.
_REDACT = {"redact_secrets": {"()": "treebeard_ir.redact.RedactSecretsFilter"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        **_REDACT,
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
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
            "filters": ["redact_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.request": {"filters": ["redact_secrets"]},
        "django.security": {"filters": ["redact_secrets"]},
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["redact_secrets"],
            "level": "INFO",
            "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
}
