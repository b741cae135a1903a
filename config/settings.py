"""All settings, read from the environment.

With nothing set this is the embedded default: SQLite (WAL), an in-memory channel layer, a
local-memory cache and a Celery broker in a local SQLite file, so `make run` needs nothing but
Python. With DATABASE_URL and REDIS_URL set it is the distributed shape: PostgreSQL, channels_redis,
the Redis cache and Redis as the Celery broker.
"""

import datetime
import json
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
# `make test` runs the suite in parallel processes (pytest-xdist): each gets its own directory
# under VAR_DIR and, below, its own Redis database, so one process's cache.clear() or broker never
# touches another's. The resolved values go back into the environment once, so a worker, server or
# script a test starts resolves to the same place instead of shifting again.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_XDIST_RESOLVED = os.environ.get("XDIST_RESOLVED_FOR") == _XDIST_WORKER
if _XDIST_WORKER and not _XDIST_RESOLVED:
    VAR_DIR = VAR_DIR / _XDIST_WORKER
    os.environ["VAR_DIR"] = str(VAR_DIR)
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEMO_SECRET_KEY = "demo-insecure-secret-key-do-not-use-in-production"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEMO_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEMO_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a real secret when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "core.admin_apps.BackOfficeAdminConfig",  # django.contrib.admin with our site (ADR 8)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "channels",
    "axes",
    "django_otp",
    "csp",
    "django_otp.plugins.otp_totp",
    "health_check",
    "django_prometheus",
    "dbbackup",
    # Our apps, in dependency order (an app never imports from one listed after it).
    "core",
    "staff",
    "members",
    "catalog",
    "inventory",
    "devices",
    "gateway",
    "orders",
    "vending",
    "lockers",
    "pickup",
    "leasing",
    "wallet",
    "accounting",
    "reports",
    "fulfilment",
    "forecasts",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "staff.middleware.ForcePasswordChangeMiddleware",
    "staff.middleware.RequireSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from our own static files, never inline, so
# markup that slips through unescaped cannot run. Styles may be inline (Leaflet and the admin set
# style attributes); map tiles come from OpenStreetMap only when a user switches them on.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https://tile.openstreetmap.org"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "core.context_processors.console",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_SERVER_SIDE_BINDING", True):
        # Parameters travel apart from the query text, and psycopg prepares a query once a process
        # has run it DB_PREPARE_THRESHOLD times (5), so PostgreSQL parses and plans it once per
        # connection instead of every time. Django leaves preparing off unless asked (it measured
        # 40% of PostgreSQL's CPU per vending sale here). DB_SERVER_SIDE_BINDING=0 turns both off
        # behind a transaction-mode pooler (PgBouncer), where prepared statements do not survive.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["server_side_binding"] = True
        threshold = int(os.environ.get("DB_PREPARE_THRESHOLD", "5"))
        options["prepare_threshold"] = threshold if threshold > 0 else None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets the web server, the worker and the beat read while one writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# A read replica (docs/deploy.md): list pages, reports and exports read from it inside
# core.db_router.replica_reads(); writes and everything else stay on "default". In tests it mirrors
# the default database, so the same rows are seen on both.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    if not DATABASE_URL:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary) set as well.")
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "staff.User"

# --- Redis: cache, channel layer, Celery broker ---------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and _XDIST_WORKER and not _XDIST_RESOLVED:
    _redis = urlsplit(REDIS_URL)
    _redis_db = (int(_redis.path.strip("/") or 0) - int(_XDIST_WORKER.removeprefix("gw"))) % 16
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_redis_db}"))
    os.environ["REDIS_URL"] = REDIS_URL
if _XDIST_WORKER:
    os.environ["XDIST_RESOLVED_FOR"] = _XDIST_WORKER
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A busy fleet page may lag a moment behind; give its channel room rather than drop.
            # CHANNEL_LAYER_PREFIX keeps deployments (or a benchmark run) sharing one Redis apart.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "capacity": 1000,
                "expiry": 30,
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "asgi"),
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # A broker that is one SQLite file (kombu's SQLAlchemy transport): a real worker and beat, no
    # server to install. Not the filesystem transport: its consumer can read a message file that
    # a second publishing process has created but not written yet, and the worker dies on the
    # half-written JSON. SQLite serialises writers (publishers wait up to `timeout` seconds for
    # the lock) and the consumer takes a message inside BEGIN IMMEDIATE, so two processes
    # publishing at once and a worker never see half a message. `manage.py supervise` restarts a
    # worker that dies anyway; what is pending stays in the file for the next one.
    # `sqlasafe` is that transport with the races of several processes starting at once resolved
    # (core.broker).
    CELERY_BROKER_URL = "sqlasafe+sqlite:///" + str(VAR_DIR / "celery-broker.sqlite3")
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # lockout after repeated failed logins
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "staff:login"
# Lockout (django-axes): by login name, so one attacker cannot lock a whole shop's shared IP.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Deliberate: the lock is per account (what a store expects); shops share one IP, so an IP lock
# would stop every till at once. Rotating user agents does not help an attacker against it.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked.html"
AXES_VERBOSE = False
# TOTP second factor for platform and regional administrators (django-otp).
# On wherever DEBUG is off; the local demo leaves it off unless STAFF_OTP_REQUIRED=1.
STAFF_OTP_REQUIRED = env_bool("STAFF_OTP_REQUIRED", not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Back office")
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_RAISE_403 = True

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# Our own number formats where Django's differ from how people write money (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
CURRENCY = os.environ.get("CURRENCY", "CNY")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    # Backups (`manage.py backup` / `restore`, django-dbbackup): a folder, or any Django storage.
    "dbbackup": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("BACKUP_DIR", str(VAR_DIR / "backups"))},
    },
}

# --- Backups and operations (docs/deploy.md) ------------------------------------------------
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "7"))  # backups kept per kind; older ones removed
BACKUP_HOUR = int(os.environ.get("BACKUP_HOUR", "2"))  # the nightly backup's hour (server time)
DBBACKUP_CLEANUP_KEEP = BACKUP_KEEP
DBBACKUP_CLEANUP_KEEP_MEDIA = BACKUP_KEEP
DBBACKUP_GPG_RECIPIENT = os.environ.get("BACKUP_GPG_RECIPIENT") or None  # set: every backup encrypted
DBBACKUP_GPG_ALWAYS_TRUST = env_bool("BACKUP_GPG_ALWAYS_TRUST", False)
BACKUP_GPG_PASSPHRASE = os.environ.get("BACKUP_GPG_PASSPHRASE", "")  # the private key's, to restore
DBBACKUP_SEND_EMAIL = False
DBBACKUP_TMP_DIR = str(VAR_DIR / "tmp")
Path(DBBACKUP_TMP_DIR).mkdir(parents=True, exist_ok=True)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")  # `/metrics` needs it as a bearer token

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # How many reverse proxies of our own stand in front of the app. Throttles key on the client
    # address those proxies report, counted from the right of X-Forwarded-For; with 0 (the
    # default) the header is ignored and the socket's address is used, so a client cannot rotate
    # a header it sets itself to dodge a limit. See docs/deploy.md.
    "NUM_PROXIES": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
    # Deep nesting and NaN/Infinity/1e309 are a 400 here, before any serializer (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# A bound on non-file request bodies (JSON, forms); uploads stream to disk as usual. 2.5 MB is
# Django's default, stated so nobody raises it by accident.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
SPECTACULAR_SETTINGS = {
    "TITLE": "Unattended retail back office API",
    "DESCRIPTION": (
        "Staff, device, customer and partner API. Every list is scoped to the caller. Partner webhooks are "
        'signed: X-Signature: t=<unix>,v1=<hex HMAC-SHA256(webhook secret, "<t>.<body>")>.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        # What a member pays with in the app (a machine purchase, a locker booking).
        "AppPaymentMethodEnum": "vending.services.APP_METHODS",
    },
    # Swagger UI served from our own static files: no CDN, so /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Email and SMS --------------------------------------------------------------------------
# The embedded default keeps what it "sends" on the console's outbox page (platform administrators
# only), so a newcomer sees initial passwords, pickup codes and sign-in codes without a provider.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "core.mail.OutboxEmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "back-office@localhost")
SMS_PROVIDER = os.environ.get(
    "SMS_PROVIDER", "core.sms.ConsoleOutboxSMSProvider" if DEBUG else "core.sms.LoggingSMSProvider"
)
# For core.sms.AlibabaSMSProvider / TencentSMSProvider: credentials and signature per provider, and
# which approved template (and parameters, in order) each of our notifications uses. JSON, e.g.
# SMS_PROVIDERS='{"alibaba": {"access_key_id": ..., "access_key_secret": ..., "sign_name": ...}}'
# SMS_TEMPLATES='{"pickup_code": {"alibaba": "SMS_4651234", "params": ["code", "place"]}}'
SMS_PROVIDERS = json.loads(os.environ.get("SMS_PROVIDERS", "{}") or "{}")
SMS_TEMPLATES = json.loads(os.environ.get("SMS_TEMPLATES", "{}") or "{}")
# How many customer sign-in codes may go out by SMS (each a paid message, and a target for SMS
# pumping): per phone number, per client address (as TRUSTED_PROXY_COUNT reports it), and for the
# whole deployment. Comma-separated rates like "1/min,5/hour"; over a limit the request gets 429
# with Retry-After and nothing is sent. See docs/deploy.md.
SIGN_IN_SMS_LIMITS = {
    "number": env_list("SIGN_IN_SMS_PER_NUMBER", ["1/min", "5/hour"]),
    "address": env_list("SIGN_IN_SMS_PER_ADDRESS", ["30/hour"]),
    "global": env_list("SIGN_IN_SMS_GLOBAL", ["1000/hour"]),
}

# --- Online payment providers ---------------------------------------------------------------
# JSON per provider, e.g. {"alipay": {"app_id": ..., "app_private_key": ..., "alipay_public_key": ...},
# "wechat": {"mchid", "appid", "private_key", "cert_serial_no", "apiv3_key", "public_key",
# "public_key_id"}, "stripe": {"secret_key", "webhook_secret"}}. A provider without its keys is
# not offered. Fee rates per method are recorded on each payment for accounting.
PAYMENT_PROVIDERS = json.loads(os.environ.get("PAYMENT_PROVIDERS", "{}") or "{}")
# Revenue sharing (accounting/conf.py lists each key and its default) and the Fernet keys of
# partners' payout details, newest first (accounting/crypto.py; derived from SECRET_KEY if unset).
ACCOUNTING = json.loads(os.environ.get("ACCOUNTING", "{}") or "{}")
PAYOUT_DETAILS_KEYS = [key for key in os.environ.get("PAYOUT_DETAILS_KEYS", "").split(",") if key.strip()]
PAYMENT_FEE_RATES = json.loads(
    os.environ.get("PAYMENT_FEE_RATES", "")
    or '{"alipay": "0.006", "wechat": "0.006", "stripe": "0.029", "card": "0.0038", "cash": "0"}'
)

# --- Partner API -----------------------------------------------------------------------------
# Webhook URLs must be https:// and reach a public address (no loopback or private network:
# SSRF). On only for local testing with a receiver on this machine; follows DEBUG by default.
PARTNER_WEBHOOK_ALLOW_LOCAL = env_bool("PARTNER_WEBHOOK_ALLOW_LOCAL", DEBUG)

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Production logs are one JSON object per line (python-json-logger) for a log shipper; DEBUG and
# LOG_FORMAT=plain keep them readable.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d %(threadName)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain"}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Domain parameters ----------------------------------------------------------------------
DEVICE_OFFLINE_AFTER_SECONDS = int(os.environ.get("DEVICE_OFFLINE_AFTER_SECONDS", "120"))
# How long the live publisher of a process gathers messages before one send (see core.live).
LIVE_LINGER_SECONDS = float(os.environ.get("LIVE_LINGER_SECONDS", "0.025"))
# An online device's stored last_seen_at is rewritten at most this often (live pages get every
# heartbeat); kept under a quarter of the offline timeout.
DEVICE_SEEN_WRITE_SECONDS = int(os.environ.get("DEVICE_SEEN_WRITE_SECONDS", "10"))
# Telemetry history keeps a sample when a value moves (see devices.services.TELEMETRY_DEADBANDS) or
# at least this often; every heartbeat still reaches the live pages.
DEVICE_TELEMETRY_SAMPLE_SECONDS = int(os.environ.get("DEVICE_TELEMETRY_SAMPLE_SECONDS", "60"))
# Management commands `make run` starts beside the web server, worker and beat (embedded mode).
# Pickup codes: length, lifetime, brute-force limits; the HMAC key defaults to one derived from SECRET_KEY.
PICKUP_CODE_KEY = os.environ.get("PICKUP_CODE_KEY", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Locker storage: free hours after the goods are ready, then a fee per started day from the wallet.
LOCKER_FREE_HOURS = int(os.environ.get("LOCKER_FREE_HOURS", "24"))
LOCKER_OVERDUE_FEE_PER_DAY = os.environ.get("LOCKER_OVERDUE_FEE_PER_DAY", "2.00")
# What a customer pays in the app to book a compartment, per size (regions set their own, ADR 16).
LOCKER_BOOKING_PRICES = {"S": "3.00", "M": "4.00", "L": "5.00", "XL": "6.00"}
# Defaults of the parameters operators set per region on the console's Settings page (ADR 16):
# the values above and PAYMENT_FEE_RATES too are only what a region without its own value uses.
POINTS_EARNED_PER_UNIT = os.environ.get("POINTS_EARNED_PER_UNIT", "1")  # points per 1.00 spent
POINTS_PER_UNIT_REDEEMED = int(os.environ.get("POINTS_PER_UNIT_REDEEMED", "100"))  # points that pay 1.00
LOW_STOCK_THRESHOLD = int(os.environ.get("LOW_STOCK_THRESHOLD", "0"))  # a new slot's, unless given
LEASE_DEFAULT_DEPOSIT = os.environ.get("LEASE_DEFAULT_DEPOSIT", "0")  # a new rate plan's, unless given
PICKUP_CODE_LENGTH = int(os.environ.get("PICKUP_CODE_LENGTH", "8"))
PICKUP_CODE_TTL_HOURS = int(os.environ.get("PICKUP_CODE_TTL_HOURS", "72"))
# Hours after a counter pickup code expired before its order ends as not collected (failed) and
# the store's staff are told to put the goods back; staff can send a new code until then. Regions
# set their own on the console's Settings page ("pickup.uncollected_grace_hours", ADR 16).
PICKUP_UNCOLLECTED_GRACE_HOURS = int(os.environ.get("PICKUP_UNCOLLECTED_GRACE_HOURS", "24"))
# Wrong codes per source (keypad session, clerk, API client) within the window before that source
# is locked; the whole locker bank or store counter locks only at the larger ceiling (ADR 0010).
PICKUP_MAX_WRONG_CODES = 5
PICKUP_PLACE_MAX_WRONG_CODES = int(os.environ.get("PICKUP_PLACE_MAX_WRONG_CODES", "50"))
PICKUP_LOCK_WINDOW_MINUTES = 15
PICKUP_LOCK_MINUTES = 15

EMBEDDED_BACKGROUND_COMMANDS: list[str] = ["demo_cabinets", "demo_fleet"]
