"""Settings for the Hospital Management System: every value comes from the environment.

A missing or malformed value fails at start with a message that names the variable.
"""

import os
import re
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_choice, env_int, env_list, env_networks, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

DEV_SECRET_KEY = "insecure-dev-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of 32+ characters when DEBUG is off "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))")'
    )

# The key of the audit trail's per-row HMAC. Keep it outside the database (someone with only
# database access cannot forge a row) and do not rotate it: rows signed with an old key no longer
# verify. Defaults to a key derived from SECRET_KEY.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY") or f"audit:{SECRET_KEY}"
# audit_verify fails when the oldest unsealed audit row is older than this (the sealer is not
# running); the sealer runs every minute.
AUDIT_SEAL_MAX_AGE_SECONDS = env_int("AUDIT_SEAL_MAX_AGE_SECONDS", 300, minimum=60)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

HOSPITAL_NAME = env_str("HOSPITAL_NAME", "St. Demo General Hospital")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    "crontask",
    "hms.core",
    "hms.accounts",
    "hms.patients",
    "hms.clinical",
    "hms.scheduling",
    "hms.feedback",
    "hms.billing",
    "hms.inventory",
    "hms.workflows",
    "hms.fhir",
    "hms.assistant",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hms.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the idle-timeout and 2FA middleware, which leave a message when they sign out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "hms.core.middleware.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "hms.core.middleware.ResolvedUserMiddleware",
    "hms.accounts.middleware.IdleTimeoutMiddleware",
    "hms.accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hms" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hms.core.context_processors.shell",
            ],
            # `{% url %}` with its links remembered per process (hms/core/links.py), and
            # `{% remember %}` for fragments that depend only on the values they name.
            "builtins": ["hms.core.templatetags.links", "hms.core.templatetags.fragments"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hms.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections are kept like PostgreSQL's: opening one costs three PRAGMAs, and closing the
    # last one checkpoints the WAL, which would otherwise happen after every request.
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock at BEGIN, so concurrent writers queue instead of failing
        # half-way with "database is locked"; WAL lets readers run beside one writer.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
    }
    # A file (not :memory:) so that tests with several connections see one database; one per
    # test process, so that two suites running at once on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "hms.accounts.backends.RoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        # Our user has given_name/family_name, not Django's default first_name/last_name.
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "given_name", "family_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:landing"

STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The demo admin may skip TOTP, but only while DEBUG is on (see the README).
DEMO_2FA_EXEMPT = DEBUG and env_bool("DEMO_2FA_EXEMPT", True)
OTP_TOTP_ISSUER = HOSPITAL_NAME

# Proxies (addresses or networks) whose X-Forwarded-For names the client; nobody else's does.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# Lockout after repeated failures: the account (from anywhere), and the (account, address)
# pair. Never the address alone: a hospital's proxy or NAT puts every member of staff behind
# one, and one person's typos must not lock out the whole hospital. An address only meets a
# soft rate limit (LOGIN_RATE_PER_ADDRESS sign-in attempts a minute).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "hms.core.net.client_ip"
LOGIN_RATE_PER_ADDRESS = env_int("LOGIN_RATE_PER_ADDRESS", 60, minimum=1)
# Patient self-registrations from one address per hour.
REGISTRATION_RATE_PER_ADDRESS = env_int("REGISTRATION_RATE_PER_ADDRESS", 5, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hms.accounts.views.lockout_response"
AXES_USERNAME_CALLABLE = "hms.accounts.backends.axes_username"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)
EMAIL_CONFIRMATION_DAYS = env_int("EMAIL_CONFIRMATION_DAYS", 3, minimum=1)
PASSWORD_RESET_TIMEOUT = EMAIL_CONFIRMATION_DAYS * 24 * 3600

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not an IANA time zone") from None
# Phone numbers typed without a country code are read in this region (ISO 3166 code).
PHONE_DEFAULT_REGION = env_choice("PHONE_DEFAULT_REGION", "GB", phonenumbers.SUPPORTED_REGIONS)
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "hms.core.static_files.ManifestStaticFilesStorage"
    },
}
# Uploaded documents are private: kept outside the web root and served only by checked views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "private")))


def _bootstrap_dir() -> Path:
    import bootstrap_wrapper

    return Path(bootstrap_wrapper.get_bootstrap_dir())


STATICFILES_DIRS = [("bootstrap", _bootstrap_dir())]

# --- Email ----------------------------------------------------------------------------------
# Development writes each message to a file in $VAR_DIR/mail (links unbroken, to click);
# production defaults to the local mail server on port 25, as Django itself does (set
# EMAIL_URL for anything else).
EMAIL_URL = env_str("EMAIL_URL", "file://" if DEBUG else "smtp://localhost:25?tls=0")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@hms.local")


# Parsed here, not by dj-email-url (issue 9.5): that package (last release 2022) returns the
# legacy single-backend EMAIL_* settings, not a MAILERS entry, so each key would still need
# renaming here; and its schemes mean other things (smtp: is port 25 without TLS, memory: not
# locmem:, file: is Django's one-file-per-process backend, not our readable folder), so the
# EMAIL_URL values deployments already use would silently change meaning.
def _mailer(url: str) -> dict:
    """EMAIL_URL -> Django's MAILERS entry: console://, locmem://, file:///path (one readable
    file per message; file:// alone is $VAR_DIR/mail), smtp(s)://..."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "file": "hms.core.mail_backends.FolderEmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not one of {', '.join(backends)}"
        )
    options: dict = {}
    if parts.scheme == "file":
        options["file_path"] = parts.path or str(VAR_DIR / "mail")
    if parts.scheme in ("smtp", "smtps"):
        options.update(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if parts.scheme == "smtps" else 587),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_ssl=parts.scheme == "smtps",
            use_tls=parts.scheme == "smtp" and query.get("tls", "1") != "0",
        )
    return {"BACKEND": backends[parts.scheme], "OPTIONS": options}


MAILERS = {"default": _mailer(EMAIL_URL)}

# --- Background tasks -----------------------------------------------------------------------
# `database` (the embedded default): the queue is a table and `manage.py task_worker` runs it.
# `rq`: the queue lives in Redis (TASKS_REDIS_URL, by default REDIS_URL) and any number of
# `manage.py task_worker` processes, on any number of machines, take from it.
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "dummy": "django.tasks.backends.dummy.DummyBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
TASKS_REDIS_URL = env_str("TASKS_REDIS_URL") or env_str("REDIS_URL")
if TASKS_BACKEND == "rq":
    if not TASKS_REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs TASKS_REDIS_URL (or REDIS_URL)")
    INSTALLED_APPS.append("django_rq")  # its `rqworker` command, which task_worker runs
# RQ stops a task after DEFAULT_TIMEOUT seconds; a Bulk Data export of a large hospital is the
# longest one.
RQ_QUEUES = {
    "default": {"URL": TASKS_REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}
}

# --- Durable events and workflows -------------------------------------------------------------
# The dispatcher retries a failing subscriber with backoff (5 s doubling, at most an hour) and
# gives up on an event after this many attempts (it is then shown as failed).
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10, minimum=1)
# After a commit that stored events a delivery task is queued to run; each process queues at most
# one per this many milliseconds (the task delivers every event committed before it starts, so
# an event waits at most this long more). 0 queues one after every such commit.
OUTBOX_DISPATCH_WINDOW_MS = env_int("OUTBOX_DISPATCH_WINDOW_MS", 1000)
# Webhook actions: seconds to wait for the receiver, and attempts before the action fails.
WORKFLOW_WEBHOOK_TIMEOUT = env_int("WORKFLOW_WEBHOOK_TIMEOUT", 10, minimum=1)
WORKFLOW_ACTION_MAX_ATTEMPTS = env_int("WORKFLOW_ACTION_MAX_ATTEMPTS", 5, minimum=1)

# --- Scheduling -----------------------------------------------------------------------------
# Patients may cancel or move an appointment online until this many hours before it starts.
APPOINTMENT_CANCEL_CUTOFF_HOURS = env_int("APPOINTMENT_CANCEL_CUTOFF_HOURS", 2)
APPOINTMENT_REMINDER_HOURS = env_int("APPOINTMENT_REMINDER_HOURS", 24, minimum=1)
# Check-in opens this many hours before an appointment and closes at the end of its day (in
# TIME_ZONE): a patient cannot be checked in (and their encounter opened) a day early.
CHECK_IN_OPENS_HOURS_BEFORE = env_int("CHECK_IN_OPENS_HOURS_BEFORE", 2)
# How long a slot freed for the waitlist is held for the patient it is offered to.
WAITLIST_HOLD_MINUTES = env_int("WAITLIST_HOLD_MINUTES", 30, minimum=1)

# --- Billing --------------------------------------------------------------------------------
# The currency of every price, invoice and payment (ISO 4217 code).
BILLING_CURRENCY = env_str("BILLING_CURRENCY", "GBP").strip().upper()
if not re.fullmatch(r"[A-Z]{3}", BILLING_CURRENCY):
    raise ImproperlyConfigured(
        f"BILLING_CURRENCY must be a three-letter ISO 4217 code, not {BILLING_CURRENCY!r}"
    )
# --- Inventory and pharmacy -----------------------------------------------------------------
# A lot expiring within this many days raises an alert (once) on the pharmacist's dashboard.
INVENTORY_EXPIRY_WARNING_DAYS = env_int("INVENTORY_EXPIRY_WARNING_DAYS", 90, minimum=1)

# --- FHIR -----------------------------------------------------------------------------------
# Bulk Data exports ($export) write their NDJSON files here (outside the web root; served only
# to the administrator who asked, by an access-checked view).
FHIR_EXPORT_DIR = Path(env_str("FHIR_EXPORT_DIR", str(VAR_DIR / "fhir-exports")))
# The most resources a search page returns (`_count` above it is lowered to it).
FHIR_MAX_COUNT = env_int("FHIR_MAX_COUNT", 500, minimum=1)
# --- Assistant ------------------------------------------------------------------------------
# Conversations with the patients' assistant are deleted after this many idle days.
ASSISTANT_RETENTION_DAYS = env_int("ASSISTANT_RETENTION_DAYS", 90, minimum=1)

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# `manage.py crontask` enqueues the periodic jobs; with REDIS_URL set, a Redis lock keeps it to
# one running scheduler however many machines start one.
CRONTASK = {"REDIS_URL": REDIS_URL or None}
CACHES = {
    "default": {"BACKEND": "hms.core.cache.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # FHIR resources as JSON (hms/fhir/rendering.py), apart from the default cache so that they
    # never push rate-limit counters out of it; in process, up to 10,000 resources (~15 MB).
    "fhir": {"BACKEND": "hms.core.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "fhir"}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fhir",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
}
# Sessions are read from the shared cache and written through to the database. An in-process
# cache cannot hold them: each server process would keep its own copy, and a sign-out in one
# would leave the session alive in the others.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hms.accounts.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hms.core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "hms.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 12, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital Management System API",
    "DESCRIPTION": "REST API of the HMS. Authenticate with POST /api/v1/auth/token/ and send "
    "`Authorization: Bearer <token>`. Errors are `{error: {code, message, fields}}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hms.core.api.document_errors",
    ],
    # Several models have a `kind` or `status` field; name each enum after its model so the
    # schema has stable names (and drf-spectacular no warnings). Add yours when you add one.
    "ENUM_NAME_OVERRIDES": {
        "EncounterKindEnum": "hms.clinical.models.EncounterKind",
        "EncounterStatusEnum": "hms.clinical.models.EncounterStatus",
        # Diagnoses and allergies share one choice set (active/inactive/resolved).
        "ClinicalStatusEnum": "hms.clinical.models.DiagnosisStatus",
        "PrescriptionStatusEnum": "hms.clinical.models.PrescriptionStatus",
        "LabOrderStatusEnum": "hms.clinical.models.LabOrderStatus",
        "AppointmentStatusEnum": "hms.scheduling.models.AppointmentStatus",
        "BookingKindEnum": "hms.scheduling.models.BookingKind",
        "ScheduleExceptionKindEnum": "hms.scheduling.models.ExceptionKind",
        "WaitlistStatusEnum": "hms.scheduling.models.WaitlistStatus",
        "ReminderKindEnum": "hms.scheduling.models.ReminderKind",
        "InvoiceStatusEnum": "hms.billing.models.InvoiceStatus",
        "PaymentMethodEnum": "hms.billing.models.PaymentMethod",
        "DeskPaymentMethodEnum": "hms.billing.models.DESK_METHOD_CHOICES",
        "PaymentKindEnum": "hms.billing.models.PaymentKind",
        "ChargeStatusEnum": "hms.billing.models.ChargeStatus",
        "PriceKindEnum": "hms.billing.models.PriceKind",
        "ClaimStatusEnum": "hms.billing.models.ClaimStatus",
        "ItemKindEnum": "hms.inventory.models.ItemKind",
        "LocationKindEnum": "hms.inventory.models.LocationKind",
        "PurchaseOrderStatusEnum": "hms.inventory.models.OrderStatus",
        "AlertKindEnum": "hms.inventory.models.AlertKind",
    },
}

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_on_one_line": {"()": "hms.core.logs.RefusalsOnOneLine"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["refusals_on_one_line"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own logger prints through our handler only (its default one doubled lines).
        "django": {
            "handlers": ["console"],
            "level": env_str("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "axes": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},  # the scheduler logs every lock refresh at INFO
    },
}
