"""musicrec settings: every value read from the environment here, with exactly one default each.

The defaults run the zero-install demo (SQLite, tasks inline, local-memory cache). Production sets
DATABASE_URL (PostgreSQL), REDIS_URL (broker and cache) and DJANGO_SECRET_KEY. See docs/settings.md.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from musicrec.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- core -------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

_INSECURE_DEV_KEY = "django-insecure-musicrec-development-key-never-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG=0. Set it to a long random string, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = _INSECURE_DEV_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

DATA_DIR = Path(env_str("MUSICREC_DATA_DIR", str(BASE_DIR / "var"))).resolve()
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"  # never routed: audio is served by the API's range-aware view
MODELS_DIR = DATA_DIR / "models"
# numba (librosa's beat tracker) keeps compiled code here, so a new worker starts warm.
os.environ.setdefault("NUMBA_CACHE_DIR", str(DATA_DIR / "cache" / "numba"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "core",
    "accounts",
    "catalog",
    "listening",
    "recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ContentLengthRequiredMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.UnexpectedBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "musicrec.urls"
WSGI_APPLICATION = "musicrec.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/for-you/"
LOGOUT_REDIRECT_URL = "/"

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

# --- database ---------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("MUSICREC_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# In a web request, a statement may run this long (PostgreSQL's statement_timeout), and any
# database call that gets no answer at all within it plus a second is abandoned (core/postgresql):
# a hung database is a quick 503, never a hung request. 0 turns both off.
MUSICREC_DB_STATEMENT_TIMEOUT_S = env_float("MUSICREC_DB_STATEMENT_TIMEOUT_S", 5.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "core.postgresql"  # Django's backend plus the deadlines
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # A dead or unreachable server must fail a request quickly, never hang it.
            "connect_timeout": env_int("MUSICREC_DB_CONNECT_TIMEOUT", 3),
            # A server or network that vanished (no FIN, no RST) is noticed in under a minute
            # on an idle connection, and unacknowledged data gives up after 10 s.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo serves page requests while inline tasks write: wait for the lock, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        # A fresh clone has no var/ yet; SQLite cannot create the folder itself.
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL", "")
REDIS_SOCKET_TIMEOUT = env_float("MUSICREC_REDIS_TIMEOUT", 2.0)
# A cache call (throttle counters, cached answers) waits at most this long for Redis, then
# Redis is skipped for 15 s (core/cache.py): local Redis answers in well under a millisecond.
CACHE_TIMEOUT_S = env_float("MUSICREC_CACHE_TIMEOUT_S", 0.5)

if REDIS_URL:
    from core.cache import GuardedConnection

    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "musicrec",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": CACHE_TIMEOUT_S,
                "SOCKET_TIMEOUT": CACHE_TIMEOUT_S,
                "CONNECTION_POOL_KWARGS": {"connection_class": GuardedConnection},
                # A cache outage (throttle counters, page fragments) degrades, it does not 500.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (read by musicrec/celery.py under namespace="CELERY") -----------------------------

ANALYSIS_SOFT_TIME_LIMIT = env_int("MUSICREC_ANALYSIS_SOFT_TIME_LIMIT", 120)
RETRAIN_SOFT_TIME_LIMIT = env_int("MUSICREC_RETRAIN_SOFT_TIME_LIMIT", 3600)
# An uploaded history file of MAX_UPLOAD_MB takes minutes, not the analysis's two.
IMPORT_SOFT_TIME_LIMIT = env_int("MUSICREC_IMPORT_SOFT_TIME_LIMIT", 1800)

# Without Redis, tasks run inline, but Celery still takes a producer from its pool for each
# send: the in-memory transport needs a host in its URL, or kombu warns "No hostname was
# supplied" on the first send of every process (it reads like a broker problem in `make demo`).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # the database holds every job's status; no result backend
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = ANALYSIS_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = ANALYSIS_SOFT_TIME_LIMIT + 30
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest task (a retrain), so a slow task is not delivered twice.
    "visibility_timeout": env_int("MUSICREC_VISIBILITY_TIMEOUT", RETRAIN_SOFT_TIME_LIMIT + 600),
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "max_retries": 2,
    # Workers look for messages a dead worker left unacknowledged (older than the visibility
    # timeout) every 10 s; kombu's default scans only every tenth time (100 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
# Publishing from a web request gives up quickly; the sweep re-queues what was not sent.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("MUSICREC_WORKER_MAX_TASKS_PER_CHILD", 200)
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- static files -----------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("MUSICREC_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# --- uploads ----------------------------------------------------------------------------------

MAX_UPLOAD_MB = env_int("MUSICREC_MAX_UPLOAD_MB", 100)
MAX_AUDIO_SECONDS = env_int("MUSICREC_MAX_AUDIO_SECONDS", 1200)
MIN_AUDIO_SECONDS = 3.0
MUSICREC_SWEEP_PENDING_AFTER_S = env_int("MUSICREC_SWEEP_PENDING_AFTER_S", 120)
# Behind nginx: hand audio files over with X-Accel-Redirect under this internal location.
MUSICREC_AUDIO_ACCEL_PREFIX = env_str("MUSICREC_AUDIO_ACCEL_PREFIX", "")
FILE_UPLOAD_HANDLERS = ["catalog.uploads.LimitedTemporaryFileUploadHandler"]
# Same filesystem as the media folder, so accepting an upload is a rename.
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
# Room for a multipart body of many files; each file's own limit is enforced while it streams.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 500

# "Similar sounding" from this many analysed tracks searches an HNSW graph instead of scanning
# every track (docs/features.md, "Similar sounding at scale"); threads for building it (0: all).
MUSICREC_ANN_MIN_TRACKS = env_int("MUSICREC_ANN_MIN_TRACKS", 200_000)
MUSICREC_ANN_BUILD_THREADS = env_int("MUSICREC_ANN_BUILD_THREADS", 0)
MUSICREC_SIMILARITY_REFRESH_BEHIND_TRACKS = env_int(
    "MUSICREC_SIMILARITY_REFRESH_BEHIND_TRACKS", 20_000
)

# --- recommender ------------------------------------------------------------------------------

MUSICREC_ALS_USE_GPU = env_bool("MUSICREC_ALS_USE_GPU", False)
# Who trains: `implicit` in this process, or `spark` (docs/deployment.md, "Training on Spark").
MUSICREC_TRAINER = env_str("MUSICREC_TRAINER", "implicit")
MUSICREC_SPARK_MASTER = env_str("MUSICREC_SPARK_MASTER", "local[*]")
# Parquet in and out of Spark: a path the driver and every executor can read and write.
MUSICREC_SPARK_STAGING = Path(env_str("MUSICREC_SPARK_STAGING", str(DATA_DIR / "spark")))
# A new model may score this much below the active one (NDCG@10, absolute) and still replace it.
MUSICREC_GATE_TOLERANCE = env_float("MUSICREC_GATE_TOLERANCE", 0.02)
MUSICREC_KEEP_MODEL_VERSIONS = env_int("MUSICREC_KEEP_MODEL_VERSIONS", 5)
MUSICREC_RETRAIN_HOUR_UTC = env_int("MUSICREC_RETRAIN_HOUR_UTC", 3)
# The scheduled tune (a retrain that first walks the tuning grid): weekly, Sunday 01:00 UTC.
MUSICREC_TUNE_DAY_OF_WEEK = env_str("MUSICREC_TUNE_DAY_OF_WEEK", "0")
MUSICREC_TUNE_HOUR_UTC = env_int("MUSICREC_TUNE_HOUR_UTC", 1)
# A user's answers are reused until their taste or the model changes, at most this long.
MUSICREC_RECOMMENDATION_CACHE_SECONDS = env_int("MUSICREC_RECOMMENDATION_CACHE_SECONDS", 60)

# --- security ---------------------------------------------------------------------------------

HTTPS = env_bool("DJANGO_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
# Load balancers probe plain HTTP: the health check is answered, never redirected.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Scripts, styles, media and requests from this site only; no inline script or style (the
# pages and the player keep theirs in static/). docs/reliability.md, row 17.
MUSICREC_CONTENT_SECURITY_POLICY = env_str(
    "MUSICREC_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
MUSICREC_PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(self), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "fullscreen=(self)"
)

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

# --- REST framework and OpenAPI ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.parsing.JSONRenderer"],
    # JSON only; a view that takes files says so (the track upload: multipart).
    "DEFAULT_PARSER_CLASSES": ["core.parsing.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("MUSICREC_THROTTLE_ANON", "600/minute"),
        "user": env_str("MUSICREC_THROTTLE_USER", "3000/minute"),
        # core.throttling: sign-in (token endpoint and login form together) and sign-up
        "sign_in": env_str("MUSICREC_THROTTLE_SIGN_IN", "20/minute"),
        "sign_in_username": env_str("MUSICREC_THROTTLE_SIGN_IN_USERNAME", "10/minute"),
        "sign_up": env_str("MUSICREC_THROTTLE_SIGN_UP", "10/hour"),
        "sign_up_username": env_str("MUSICREC_THROTTLE_SIGN_UP_USERNAME", "10/hour"),
    },
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "NUM_PROXIES": env_int("MUSICREC_NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "musicrec API",
    "DESCRIPTION": (
        "Music catalogue, listening history and recommendations. The rules behind these "
        "endpoints (authentication, pagination, errors, upload outcomes) are in the "
        "repository's docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TrackStatusEnum": "catalog.models.Track.Status",
        "ModelStatusEnum": "recommender.models.ModelVersion.Status",
        "FeedbackKindEnum": "listening.models.Feedback.Kind",
    },
}

# --- logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MUSICREC_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # inline tasks (no broker) would log a line per task into every command's output
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
