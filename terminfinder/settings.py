"""Terminfinder settings: one file, driven by environment variables.

Development and the demo (`make run`) set DJANGO_DEBUG=1 and need nothing else. Production sets
at least DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL; everything security-related
defaults to the strict value when DEBUG is off.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value in production, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    # Only ever used with DEBUG on: a development machine or the demo.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_dramatiq",
    "dramatiq_crontab",
    "terminfinder.accounts",
    "terminfinder.outbox",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "practices",
    "bookings",
    "notifications",
    "chatbot",
    "calendars",
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
    "allauth.account.middleware.AccountMiddleware",
    "terminfinder.accounts.middleware.PlatformAdminMFAMiddleware",
]

ROOT_URLCONF = "terminfinder.urls"
WSGI_APPLICATION = "terminfinder.wsgi.application"
ASGI_APPLICATION = "terminfinder.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default (`make run`); production and the test suite use PostgreSQL
# through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'var' / 'terminfinder.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # Wait for the write lock instead of failing at once when the web process and a worker
    # write at the same moment.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# One Redis server for the queues (DB 0, see queues.py) and the cache (DB 1). The cache must be
# shared by every web process: allauth's rate limits count in it. The demo (`make run`, DEBUG on,
# no REDIS_URL) keeps a per-process memory cache so it needs nothing but Python.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_db_url(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


CACHE_URL = os.environ.get("CACHE_URL") or redis_db_url(REDIS_URL, 1)
if DEBUG and not (os.environ.get("REDIS_URL") or os.environ.get("CACHE_URL")):
    CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "terminfinder"}
        for alias in ("default", "tickets")
    }
else:
    _redis_cache = {
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "terminfinder",
        "TIMEOUT": 300,
        # A dead cache must fail fast, not hang a request.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    CACHES = {
        # Rate-limit counters: a Redis outage must not stop logins and bookings (terminfinder/cache.py).
        "default": {"BACKEND": "terminfinder.cache.FailOpenRedisCache", **_redis_cache},
        # Hand-offs that must not silently vanish (the chat's tickets): errors surface.
        "tickets": {"BACKEND": "django.core.cache.backends.redis.RedisCache", **_redis_cache},
    }

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
# Our own catalog first (it wins, and `makemessages` writes only to the first entry), then
# hand-maintained overrides of third-party catalogs: formal German ("Sie") in place of
# django-allauth's "du". Both beat the installed apps' own catalogs.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Accounts: django-allauth, email and password only. Email verification is mandatory, and no
# form tells whether an address has an account (sign-up and password reset answer alike and
# send an email instead).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "bookings:appointments"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Terminfinder] "
ACCOUNT_ADAPTER = "terminfinder.accounts.adapter.AccountAdapter"
# Rate limits: allauth's defaults (failed logins 10/min per IP and 5 per 5 min per address,
# sign-ups 20/min per IP, password resets 20/min per IP and 5/min per address, ...), counted in
# the shared cache above. Deliberately not overridden here.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Terminfinder"
# Platform admins see every practice's patients: they must set up TOTP before the admin opens.
# On by default in production; off by default in the demo (DEBUG).
TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS = env_bool(
    "TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS", not DEBUG
)

# Security: strict unless DEBUG is on. Behind a TLS-terminating proxy set
# DJANGO_SECURE_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the web server append to X-Forwarded-For. The API throttles count
# per client address: with 0 they use REMOTE_ADDR and ignore the header, which a client could
# otherwise fill with anything to get a fresh throttle bucket per request.
NUM_PROXIES = env_int("DJANGO_NUM_PROXIES", 0)

# The demo prints mail (e.g. the sign-up confirmation link) to the terminal instead of failing
# on a missing mail server.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Where the file backend of the demo (`make run`) writes emails.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Terminfinder <noreply@terminfinder.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Logs carry ids and categories, never personal data (see DESIGN.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The scheduler logs every lock refresh (every 5 s) at INFO.
        "apscheduler": {"level": "WARNING"},
        # The OpenAI SDK and its HTTP client log request bodies at DEBUG: never the chat text.
        "openai": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The CalDAV library logs failed requests with server replies at INFO and DEBUG: those
        # may carry event content. Ours log connection ids and counts only.
        "caldav": {"level": "WARNING"},
        "niquests": {"level": "WARNING"},
    },
}

# Redis (REDIS_URL above) carries the task queues. It must be configured as a queue, not a
# cache: append-only persistence on and no eviction (`appendonly yes`, `maxmemory-policy
# noeviction`); cache entries all expire on their own. The embedded server of `make run` and the
# test harness are started that way; `make run` sets REDIS_URL to its embedded server.

def with_redis_timeouts(url: str) -> str:
    """Every network client has a timeout: a web request must not hang on a dead Redis. The
    broker builds its connection pool from the URL alone, so the timeouts travel in the URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("socket_connect_timeout", str(env_int("REDIS_CONNECT_TIMEOUT", 2)))
    query.setdefault("socket_timeout", str(env_int("REDIS_SOCKET_TIMEOUT", 10)))
    query.setdefault("health_check_interval", "30")
    return urlunsplit(parts._replace(query=urlencode(query)))


# Set explicitly: django-dramatiq 0.15's built-in default names the Prometheus middleware
# path that dramatiq 2 removed, and a RabbitMQ broker.
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {
        "url": with_redis_timeouts(REDIS_URL),
        # How soon the messages of a dead worker go back to their queue (ms), and how often a
        # broker call does that maintenance (per million calls).
        "heartbeat_timeout": env_int("DRAMATIQ_HEARTBEAT_TIMEOUT_MS", 60_000),
        "maintenance_chance": env_int("DRAMATIQ_MAINTENANCE_CHANCE", 1_000),
        "dead_message_ttl": env_int("DRAMATIQ_DEAD_MESSAGE_TTL_MS", 14 * 86_400_000),
    },
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.ShutdownNotifications",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Pipelines",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.CurrentMessage",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "terminfinder.outbox.middleware.RedisQueueConfigCheck",
    ],
}
DRAMATIQ_TASKS_DATABASE = "default"
DRAMATIQ_CRONTAB = {"REDIS_URL": with_redis_timeouts(REDIS_URL)}

# Product settings.
TERMINFINDER_BASE_URL = os.environ.get("TERMINFINDER_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Email actors: bounded exponential backoff (ms). Tests shorten the delays through the env.
TERMINFINDER_EMAIL_MAX_RETRIES = env_int("TERMINFINDER_EMAIL_MAX_RETRIES", 8)
TERMINFINDER_EMAIL_MIN_BACKOFF_MS = env_int("TERMINFINDER_EMAIL_MIN_BACKOFF_MS", 10_000)
TERMINFINDER_EMAIL_MAX_BACKOFF_MS = env_int("TERMINFINDER_EMAIL_MAX_BACKOFF_MS", 3_600_000)
# How long a worker holds the claim on one email while it talks to the SMTP server: longer than
# one SMTP conversation (EMAIL_TIMEOUT). A killed worker's email is sent again once it runs out.
TERMINFINDER_DELIVERY_LEASE_SECONDS = env_int("TERMINFINDER_DELIVERY_LEASE_SECONDS", 30)
# How many of the oldest matching alerts hear about one freed or new slot.
TERMINFINDER_SLOT_ALERT_BATCH = env_int("TERMINFINDER_SLOT_ALERT_BATCH", 5)
TERMINFINDER_BOOKING_HORIZON_WEEKS = env_int("TERMINFINDER_BOOKING_HORIZON_WEEKS", 12)

# Calendar sync (calendars app). Connection secrets (passwords, tokens) are encrypted at rest
# with these Fernet keys: comma-separated, the first encrypts, all decrypt (rotation: put the
# new key first, re-save, drop the old one). Production refuses to run without one (system
# check calendars.E001); with DEBUG on a key is derived from SECRET_KEY.
TERMINFINDER_CALENDAR_KEYS = env_list("TERMINFINDER_CALENDAR_KEYS", [])
# Calendar addresses must be https and public (calendars/addresses.py); development and the
# test suite (a CalDAV server on loopback) lift that.
TERMINFINDER_CALENDAR_ALLOW_LOCAL = env_bool("TERMINFINDER_CALENDAR_ALLOW_LOCAL", DEBUG)
# A published ICS file larger than this is refused rather than read into memory.
TERMINFINDER_CALENDAR_MAX_ICS_BYTES = env_int("TERMINFINDER_CALENDAR_MAX_ICS_BYTES", 10_000_000)
# Every call to a calendar server gives up after this many seconds.
TERMINFINDER_CALENDAR_TIMEOUT = env_int("TERMINFINDER_CALENDAR_TIMEOUT", 10)
TERMINFINDER_CALENDAR_MAX_RETRIES = env_int("TERMINFINDER_CALENDAR_MAX_RETRIES", 6)
TERMINFINDER_CALENDAR_MIN_BACKOFF_MS = env_int("TERMINFINDER_CALENDAR_MIN_BACKOFF_MS", 15_000)
TERMINFINDER_CALENDAR_MAX_BACKOFF_MS = env_int("TERMINFINDER_CALENDAR_MAX_BACKOFF_MS", 3_600_000)
# A full pull (instead of an incremental one) at least this often, so recurring events keep
# being expanded as the booking horizon moves on.
TERMINFINDER_CALENDAR_FULL_PULL_HOURS = env_int("TERMINFINDER_CALENDAR_FULL_PULL_HOURS", 24)
# Google's CalDAV endpoint takes OAuth 2 bearer tokens; expired ones are refreshed here.
TERMINFINDER_GOOGLE_TOKEN_URL = os.environ.get(
    "TERMINFINDER_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"
)
TERMINFINDER_GOOGLE_CLIENT_ID = os.environ.get("TERMINFINDER_GOOGLE_CLIENT_ID", "")
TERMINFINDER_GOOGLE_CLIENT_SECRET = os.environ.get("TERMINFINDER_GOOGLE_CLIENT_SECRET", "")

# The REST API (/api/): JWT bearer tokens for apps, the session for the site's own pages.
REST_FRAMEWORK = {
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bookings.api_errors.api_exception_handler",
    # Counted in the shared cache (Redis), so every web process sees the same numbers.
    "DEFAULT_THROTTLE_RATES": {
        "booking_create": os.environ.get("TERMINFINDER_API_BOOKING_RATE", "30/minute"),
        "auth": os.environ.get("TERMINFINDER_API_AUTH_RATE", "20/minute"),
        "chat": os.environ.get("TERMINFINDER_API_CHAT_RATE", "20/minute"),
        "chat_poll": os.environ.get("TERMINFINDER_API_CHAT_POLL_RATE", "240/minute"),
    },
}
SIMPLE_JWT = {"USER_ID_FIELD": "id", "UPDATE_LAST_LOGIN": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "Terminfinder API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    # Swagger UI's files come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The chat ticket's status shares its field name with the booking's: name both.
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "bookings.models.Booking.Status",
        "ChatTicketStatusEnum": "chatbot.tickets.STATUS_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "bookings.api_errors.add_error_responses",
    ],
}

# The chatbot (chatbot/): answers from the FAQ and the practice's data; an OpenAI model phrases
# the answer only when OPENAI_API_KEY is set. No message is stored: a question and its answer
# live in the cache for CHATBOT_RESULT_TTL seconds under a random ticket, nowhere else.
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
# EU data residency: https://eu.api.openai.com/v1 (empty: the SDK's default endpoint).
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "")
OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4.1-mini")
CHATBOT_OPENAI_TIMEOUT = float(os.environ.get("CHATBOT_OPENAI_TIMEOUT", "8"))
CHATBOT_RESULT_TTL = env_int("CHATBOT_RESULT_TTL", 120)
CHATBOT_MAX_MESSAGE_LENGTH = env_int("CHATBOT_MAX_MESSAGE_LENGTH", 500)
CHATBOT_MAX_RETRIES = env_int("CHATBOT_MAX_RETRIES", 2)
