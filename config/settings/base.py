"""Settings shared by every environment; each value comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Each task kind keeps its page partials and scripts in its own folder (labeling/kinds/<kind>/).
KIND_DIRS = sorted(
    path for path in (BASE_DIR / "labeling" / "kinds").iterdir() if path.is_dir() and not path.name.startswith("_")
)
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "datasets",
    "labeling",
    "models_app",
    "workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.htmx_login_redirect",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", *(kind / "templates" for kind in KIND_DIRS)],
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

# A bare machine needs no database server: SQLite in var/ unless DATABASE_URL says otherwise.
# An empty DATABASE_URL counts as unset (production settings refuse both).
_database_url = env("DATABASE_URL", default="")
DATABASES = {"default": env.db_url_config(_database_url or f"sqlite:///{VAR_DIR / 'shelfmark.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the worker write to one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A reused connection that the server or a proxy dropped (restart, failover, idle timeout) would fail
    # the next request on it; the check (one round trip when a request first uses the connection) reconnects.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# The hot hand-written statements run prepared on PostgreSQL (config/sql_rows.py); false for a pooler in
# transaction mode (PgBouncer's default), which cannot keep a connection's prepared statements.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
STATICFILES_DIRS = [BASE_DIR / "static", *(kind / "static" for kind in KIND_DIRS if (kind / "static").is_dir())]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
# The worker's cache of catalog feature matrices (models_app.services.catalog_features): rebuilt when lost.
CATALOG_FEATURES_ROOT = env.path("CATALOG_FEATURES_ROOT", default=VAR_DIR / "catalog-features")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads above this go to a temporary file rather than memory; imports stream from disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Content-Security-Policy on every response (django-csp). Scripts and stylesheets come only from our own
# static files: no inline <script> or <style>, no event-handler attributes, no eval (htmx runs with
# allowEval off, see base.html). style="" attributes stay allowed (style-src-attr): pages set computed
# widths and colours with them, and so do DRF's browsable API and Swagger UI; an attribute holds no
# selector, @import or script. Product photos come from the shops' own hosts, so images may come from anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "https:", "http:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGIN_URL = "login"
# How long a lead's invite link creates an account (workspace/services/invites.py).
INVITE_MAX_AGE = timedelta(days=env.int("INVITE_DAYS", default=7))
LOGIN_REDIRECT_URL = "workspace:list"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection (django-axes) for every password login: the login page and the Django admin's.
# Failures count per account and per address separately; either reaching the limit within the cool-off
# locks that account (from anywhere) or that address (for any account) until the cool-off has passed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "config.login_limits.LoginAttemptHandler"
AXES_LOCKOUT_CALLABLE = "config.login_limits.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_limits.client_ip"
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For (0 = none).
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)

# Celery. With no broker configured, the filesystem transport keeps `make run` free of servers
# while jobs still run in a separate worker process (production settings refuse to start without one).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # BROKER_DIR: a process group of its own (a benchmark beside `make run`) keeps its messages apart.
    _broker_dir = Path(env("BROKER_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shelfmark API",
    "DESCRIPTION": "Datasets, taxonomies, imports and the labeling queue of Shelfmark.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The errors every operation can answer, in the one shape config/api_errors.py gives them.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.document_errors"],
}

# Background jobs (config/jobs): a running job beats a heartbeat; one silent for JOB_STALE_SECONDS lost
# its worker and the sweeper (in every worker, every JOB_SWEEP_SECONDS; 0 turns it off) resumes it, at
# most JOB_MAX_INTERRUPTIONS times, then fails it. A queued job is re-sent after JOB_REDISPATCH_SECONDS.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=15)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=90)
JOB_SWEEP_SECONDS = env.float("JOB_SWEEP_SECONDS", default=30)
JOB_REDISPATCH_SECONDS = env.float("JOB_REDISPATCH_SECONDS", default=60)
JOB_MAX_INTERRUPTIONS = env.int("JOB_MAX_INTERRUPTIONS", default=2)

# Shelfmark's own knobs.
# Rows an import commits at a time. On SQLite each batch holds the one write lock, which submits wait for
# (issue 16): 2,000 rows (a few tens of ms) there.
IMPORT_BATCH_SIZE = env.int(
    "IMPORT_BATCH_SIZE", default=2000 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 20000
)
TASK_LEASE_MINUTES = env.int("TASK_LEASE_MINUTES", default=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"expected_errors": {"()": "config.log_filters.ExpectedErrorsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["expected_errors"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Django's records went to its own console handler (under DEBUG) and again to the root's: now to ours once.
    # runserver's request lines (django.server) keep Django's handler and do not propagate.
    "loggers": {"django": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO"), "propagate": False}},
}

# Exports, experiments and quality reports share the job states; imports and training runs add their own.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["JobStatusEnum"] = "config.jobs.models.JobStatus"
