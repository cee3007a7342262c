"""Django settings, built from ``storesync.config`` (the ``STORESYNC_*`` environment)."""

from __future__ import annotations

import os as _os
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url

from storesync import config as _config

CONFIG = _config.load()
DATA_DIR = CONFIG.data_dir
# The embedded job queue and the key file live here; private to the service's user.
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
# Derived from the master key at start-up (storesync.security.keyring); never configured apart.
SECRET_KEY = "storesync-unset-secret-key-replaced-at-startup-by-keyring"

INSTALLED_APPS = [
    "storesync.cli",  # first, so that its `migrate` wraps Django's
    "storesync.web",  # before allauth, so that its templates restyle allauth's pages
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "huey.contrib.djhuey",
    "storesync.security",
    "storesync.core",
    "storesync.customers",
    "storesync.catalog",
    "storesync.inventory",
    "storesync.orders",
    "storesync.privacy",
    "storesync.channels",
    "storesync.api",
]

MIDDLEWARE = [
    "storesync.web.middleware.RequestContextMiddleware",
    "storesync.web.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "storesync.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "storesync.web.uploads.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "storesync.web.membership.MemberMiddleware",
    "storesync.api.idempotency.IdempotencyMiddleware",
    "storesync.web.middleware.MetricsMiddleware",
]

ROOT_URLCONF = "storesync.urls"
WSGI_APPLICATION = "storesync.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "storesync.web.context.workspace",
                "storesync.web.context.policy_notice",
            ],
        },
    }
]


def _database(url: str) -> dict[str, Any]:
    if CONFIG.database_vendor == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_config.sqlite_path(url)),
            # IMMEDIATE takes the write lock at BEGIN: no SQLITE_BUSY upgrade failures and no
            # lost updates between concurrent writers (WAL keeps readers unblocked).
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            # A file, not shared-cache memory: tests then see SQLite's real locking (WAL,
            # busy timeout), as the embedded deployment does.
            "TEST": {"NAME": str(DATA_DIR / "test_storesync.sqlite3")},
        }
    parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    parsed["OPTIONS"] = {"connect_timeout": 5, "application_name": "storesync"}
    parsed["TEST"] = {"NAME": f"test_{unquote(urlsplit(url).path.lstrip('/')) or 'storesync'}"}
    return dict(parsed)


DATABASES = {"default": _database(CONFIG.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if CONFIG.redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CONFIG.redis_url,
            "KEY_PREFIX": "storesync",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "storesync_cache",
        }
    }


def _huey() -> Any:
    from huey import RedisHuey, SqliteHuey

    immediate = False
    if CONFIG.redis_url:
        return RedisHuey("storesync", url=CONFIG.redis_url, immediate=immediate, utc=True)
    return SqliteHuey(
        "storesync", filename=str(DATA_DIR / "jobs.sqlite3"), immediate=immediate, utc=True
    )


HUEY = _huey()

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email login, no open sign-up (members join by invitation), TOTP + recovery codes.
ACCOUNT_ADAPTER = "storesync.web.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
MFA_ADAPTER = "storesync.web.auth.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "storesync"
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_RECOVERY_CODE_COUNT = 10

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.https
SESSION_COOKIE_NAME = "__Host-storesync" if CONFIG.https else "storesync_session"
CSRF_COOKIE_SECURE = CONFIG.https
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = CONFIG.https
SECURE_HSTS_SECONDS = 31536000 if CONFIG.https else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CONFIG.https else None

DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.max_body_bytes
STORESYNC_MAX_BODY_BYTES = CONFIG.max_body_bytes
# CSV uploads to /api/v1/imports/ (storesync.web.uploads); spooled to disk, not memory.
_max_import = _os.environ.get("STORESYNC_MAX_IMPORT_BYTES", str(50 * 1024 * 1024))
if not _max_import.isdigit():
    raise _config.ConfigError("STORESYNC_MAX_IMPORT_BYTES must be a whole number of bytes")
STORESYNC_MAX_IMPORT_BYTES = int(_max_import)
# Multipart uploads of product images: a 10 MB image plus the form's other fields.
STORESYNC_MAX_UPLOAD_BYTES = 10 * 1024 * 1024 + 64 * 1024
STORESYNC_UPLOAD_PATHS = r"/api/v1/products/[^/]+/images"

if CONFIG.smtp_url:
    _smtp = urlsplit(CONFIG.smtp_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.hostname or "localhost"
    EMAIL_PORT = _smtp.port or 25
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
    EMAIL_USE_TLS = _smtp.scheme == "smtp+starttls"
    EMAIL_USE_SSL = _smtp.scheme == "smtps"
else:
    # No SMTP server configured: mail is written to files in the data directory, never lost.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "outbox-mail")
DEFAULT_FROM_EMAIL = CONFIG.email_from

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = None  # static files are served from the installed package (WhiteNoise finders)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
MEDIA_ROOT = str(DATA_DIR / "media")

NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING_CONFIG = None  # storesync.core.logs configures structlog and the stdlib once
STORESYNC_LOG_LEVEL = CONFIG.log_level
