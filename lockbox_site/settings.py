"""Lockbox settings. Everything that varies between deployments comes from the environment."""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str
from .proxies import trusted_networks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LOCKBOX_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)."
        )
    # A development key, generated once and kept out of the repository.
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # TOTP authenticators and recovery codes (SPEC 14); tenants_app.mfa is their one user.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tenants_app",
    "requests_app",
    "audit_app",
]

MIDDLEWARE = [
    # First: every later component (axes, throttles, audit client_ip) sees the real client.
    "lockbox_site.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "lockbox_site.timezones.UserTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lockbox_site.sessions.IdleTimeoutMiddleware",
    # Marks the signed-in user with when its second factor was last verified (step-up, SPEC 14).
    "tenants_app.mfa_middleware.StepUpMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After authentication and messages, so an error page shows the user's navigation.
    "lockbox_site.error_middleware.ErrorPageMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lockbox_site.urls"
CSRF_FAILURE_VIEW = "lockbox_site.error_views.csrf_failure"
WSGI_APPLICATION = "lockbox_site.wsgi.application"

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
                "tenants_app.context_processors.navigation",
            ],
            # `|when`: a date in the user's time zone with its UTC value on hover.
            "builtins": ["lockbox_site.timezones"],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'lockbox.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN,
    # so two deciders queue on the busy timeout instead of failing "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not shared memory: concurrency tests need real locking between threads.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif env_bool("DB_PREPARED_STATEMENTS", True):
    # PostgreSQL: parameters bound by the server, and a statement sent twice on a connection is
    # prepared there, so the hot paths' statements are parsed and planned once per connection
    # (an approval's server CPU 4.0 -> 2.0 ms, issue 17). Off (false) only behind a pooler in
    # transaction mode that does not track prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=2
    )

# --- Cache ------------------------------------------------------------------
# What must be counted across every process (DRF's sign-in throttle) lives here, so it must
# be shared: Redis in production (CACHE_URL=redis://host:6379/1); by default a directory under
# var/ that every process of this machine shares, with no server and no table to create (and
# no write on SQLite's one write lock per counted request).
CACHE_URL = env_str("CACHE_URL")


def _cache(url: str) -> dict:
    if not url:
        url = f"file://{VAR_DIR / 'cache'}"
    scheme = url.partition("://")[0]
    if scheme in ("redis", "rediss"):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "lockbox",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    if scheme == "file" and url[len("file://") :]:
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": url[len("file://") :],
            # The default (300) would cull live throttle counts under a spray of addresses.
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    raise ImproperlyConfigured(
        f"CACHE_URL must be redis://…, rediss://… or file:///a/directory, not {url!r}"
    )


CACHES = {"default": _cache(CACHE_URL)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenants_app.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Refuses sign-in for a locked-out user name + address before checking the password.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, loading the user with its tenant in one precompiled statement (issue 17).
    "tenants_app.backends.UserBackend",
]
AXES_FAILURE_LIMIT = env_int("LOCKBOX_SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOCKBOX_SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The client is REMOTE_ADDR, which TrustedProxyMiddleware alone derives from X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "lockbox_site.web.client_ip"
AXES_USERNAME_CALLABLE = "lockbox_site.web.axes_username"
AXES_LOCKOUT_CALLABLE = "lockbox_site.error_views.locked_out"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; empty: nobody's.
LOCKBOX_TRUSTED_PROXIES = env_list("LOCKBOX_TRUSTED_PROXIES")
trusted_networks(LOCKBOX_TRUSTED_PROXIES)  # a typo stops start-up rather than trusting no one

# Step-up MFA (SPEC 14): the name authenticator apps show, and django-otp's throttle: after n
# wrong codes in a row a device refuses every code for THROTTLE_FACTOR * 2**(n-1) seconds.
OTP_TOTP_ISSUER = "Lockbox"
OTP_TOTP_THROTTLE_FACTOR = env_int("LOCKBOX_MFA_THROTTLE_SECONDS", 1, minimum=1)
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR
LOCKBOX_STEP_UP_MINUTES = env_int("LOCKBOX_STEP_UP_MINUTES", 15, minimum=1)
# Single sign-on (SPEC 14): each call to a tenant's identity provider (discovery, token
# exchange, keys) gives up after this many seconds; discovery and keys are cached this long.
LOCKBOX_OIDC_TIMEOUT_SECONDS = env_int("LOCKBOX_OIDC_TIMEOUT_SECONDS", 5, minimum=1)
LOCKBOX_OIDC_CACHE_SECONDS = env_int("LOCKBOX_OIDC_CACHE_SECONDS", 300, minimum=0)

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (served by whitenoise; no CDN) ----------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start until it exists
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Everything is served by the app itself, so the policy can be strict: no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- E-mail -----------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds for each SMTP socket operation; Celery's time limits on the delivery task bound the
# whole exchange (requests_app/services/outbox.py).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "lockbox@localhost")
LOCKBOX_BASE_URL = env_str("LOCKBOX_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Lockbox ----------------------------------------------------------------
LOCKBOX_PENDING_TTL_MINUTES = env_int("LOCKBOX_PENDING_TTL_MINUTES", 720, minimum=1)
LOCKBOX_MIN_ACCESS_MINUTES = env_int("LOCKBOX_MIN_ACCESS_MINUTES", 15, minimum=1)
LOCKBOX_MAX_ACCESS_MINUTES = env_int("LOCKBOX_MAX_ACCESS_MINUTES", 480, minimum=1)
LOCKBOX_DEFAULT_ACCESS_MINUTES = env_int("LOCKBOX_DEFAULT_ACCESS_MINUTES", 240, minimum=1)
if not (LOCKBOX_MIN_ACCESS_MINUTES <= LOCKBOX_DEFAULT_ACCESS_MINUTES <= LOCKBOX_MAX_ACCESS_MINUTES):
    raise ImproperlyConfigured(
        "LOCKBOX_MIN_ACCESS_MINUTES <= LOCKBOX_DEFAULT_ACCESS_MINUTES"
        " <= LOCKBOX_MAX_ACCESS_MINUTES must hold."
    )
LOCKBOX_SWEEP_SECONDS = env_int("LOCKBOX_SWEEP_SECONDS", 2, minimum=1)
LOCKBOX_SWEEP_BATCH = env_int("LOCKBOX_SWEEP_BATCH", 200, minimum=1)
# Webhooks may not target loopback or private networks unless this is on (tests, on-premises).
LOCKBOX_WEBHOOK_ALLOW_PRIVATE = env_bool("LOCKBOX_WEBHOOK_ALLOW_PRIVATE", False)
# The total deadline of one webhook delivery (lookup, connect, TLS, request, response headers).
LOCKBOX_WEBHOOK_TIMEOUT_SECONDS = env_int("LOCKBOX_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
LOCKBOX_OUTBOX_MAX_ATTEMPTS = env_int("LOCKBOX_OUTBOX_MAX_ATTEMPTS", 10, minimum=1)
# The flush job delivers what the after-commit dispatch could not (broker down, failed send);
# it leaves messages younger than the grace period to that dispatch.
LOCKBOX_OUTBOX_FLUSH_SECONDS = env_int("LOCKBOX_OUTBOX_FLUSH_SECONDS", 30, minimum=1)
LOCKBOX_OUTBOX_GRACE_SECONDS = env_int("LOCKBOX_OUTBOX_GRACE_SECONDS", 10, minimum=0)
# The Ed25519 key that signs decisions and checkpoints (SPEC 11). Generated under var/ when it
# is the default and missing (make run); a file named explicitly must exist.
LOCKBOX_SIGNING_KEY_FILE = env_str("LOCKBOX_SIGNING_KEY_FILE", str(VAR_DIR / "signing-key.pem"))
LOCKBOX_SIGNING_KEY_GENERATE = not env_str("LOCKBOX_SIGNING_KEY_FILE")
LOCKBOX_VERIFY_KEY_FILES = env_list("LOCKBOX_VERIFY_KEY_FILES")
# How often each tenant whose audit chain moved gets a signed checkpoint (SPEC 11).
LOCKBOX_CHECKPOINT_SECONDS = env_int("LOCKBOX_CHECKPOINT_SECONDS", 300, minimum=1)
AUDIT_DEFAULT_RETENTION_DAYS = env_int("AUDIT_DEFAULT_RETENTION_DAYS", 180, minimum=1)
AUDIT_RETENTION_BATCH = env_int("AUDIT_RETENTION_BATCH", 5000, minimum=1)
# The same refused attempt (actor, operation, object) is audited once per this many seconds.
AUDIT_REFUSAL_QUIET_SECONDS = env_int("AUDIT_REFUSAL_QUIET_SECONDS", 300, minimum=1)

# --- Celery -----------------------------------------------------------------
CELERY_QUEUE_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # A broker that needs no server, for `make run` on a laptop. One folder serves
    # as in- and out-box because producer and worker share this machine.
    for sub in ("queue", "processed", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Fail fast when Redis is down: the outbox keeps the message and the flush job retries.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_TIMEZONE = "UTC"
# Celery's own defaults, stated: Celery looks up a setting Django does not define through
# several missing prefixed names (about 13 us each), and every outbox publish reads these
# (issue 17); defined, each is one attribute read. tests/test_celery_settings.py keeps them
# equal to Celery's defaults.
CELERY_DEFAULTS_STATED = {
    "TASK_ALWAYS_EAGER": False,
    "TASK_DEFAULT_QUEUE": "celery",
    "TASK_SEND_SENT_EVENT": False,
    "TASK_REPR_MAXLEVELS": 3,
    "BROKER_POOL_ACQUIRE_TIMEOUT": None,
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_TASK_REPR_MAXLEVELS = 3
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = None
# Beat's shelve file lives with the rest of the local state, never in the working directory.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "lockbox-sweep": {
        "task": "requests_app.tasks.sweep",
        "schedule": timedelta(seconds=LOCKBOX_SWEEP_SECONDS),
        "options": {"expires": LOCKBOX_SWEEP_SECONDS * 5},
    },
    "outbox-flush": {
        "task": "requests_app.tasks.flush_outbox",
        "schedule": timedelta(seconds=LOCKBOX_OUTBOX_FLUSH_SECONDS),
        "options": {"expires": LOCKBOX_OUTBOX_FLUSH_SECONDS * 2},
    },
    "audit-checkpoints": {
        "task": "audit_app.tasks.issue_checkpoints",
        "schedule": timedelta(seconds=LOCKBOX_CHECKPOINT_SECONDS),
        "options": {"expires": LOCKBOX_CHECKPOINT_SECONDS},
    },
    "audit-retention": {
        "task": "audit_app.tasks.apply_retention",
        "schedule": crontab(hour=2, minute=30),
    },
}

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants_app.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "lockbox_site.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # DRF's JSON, written by orjson (lockbox_site/renderers.py: the same bytes, a tenth of the
    # CPU on an audit page); the browsable API as before.
    "DEFAULT_RENDERER_CLASSES": [
        "lockbox_site.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "lockbox_site.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth-token": env_str("LOCKBOX_TOKEN_THROTTLE", "10/min")},
    # Throttles key on REMOTE_ADDR alone (set from X-Forwarded-For only for trusted proxies).
    "NUM_PROXIES": 0,
    "UNAUTHENTICATED_USER": None,
}
# API tokens (django-rest-knox): a new one per sign-in, stored as a SHA-512 digest, expiring
# LOCKBOX_TOKEN_TTL_HOURS after it was issued (not renewed by use).
LOCKBOX_TOKEN_TTL_HOURS = env_int("LOCKBOX_TOKEN_TTL_HOURS", 10, minimum=1)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=LOCKBOX_TOKEN_TTL_HOURS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lockbox API",
    "DESCRIPTION": "Customer Lockbox: approved, time-limited, audited support access.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AccessRequestStatusEnum": "requests_app.models.AccessRequest.Status",
        "TicketStatusEnum": "requests_app.models.Ticket.Status",
        "CloudPCStatusEnum": "tenants_app.models.CloudPC.Status",
        "RecordTypeEnum": "audit_app.models.RecordType",
        "OperationEnum": "audit_app.models.Operation",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
