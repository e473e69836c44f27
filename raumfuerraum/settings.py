"""Settings, all from the environment (12-factor); see README for every variable.

Operators set these at deploy time; what admins tune at run time (policies, display
texts) lives in the database instead.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# The runtime is below everything (it imports neither Django nor our apps): only it knows
# where the embedded servers keep their sockets and data.
from ops import runtime

from . import __version__
from .env import boolean as envbool
from .env import choice as envchoice
from .env import integer as envint
from .env import listing as envlist

BASE_DIR = Path(__file__).resolve().parent.parent


def database_from_url(url: str) -> dict:
    """Django DATABASES entry for a postgresql:// URL, several hosts allowed.

    ``postgresql://user:pw@db1:5432,db2:5432/rfr?target_session_attrs=read-write``
    becomes HOST "db1,db2" and PORT "5432,5432", which libpq tries in order.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    userinfo, _sep, hostinfo = parts.netloc.rpartition("@")
    user, _sep, password = userinfo.partition(":")
    hosts, ports = [], []
    for entry in hostinfo.split(","):
        if entry.startswith("["):  # [::1]:5432
            host, _sep, rest = entry[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _sep, port = entry.partition(":")
        hosts.append(unquote(host))
        ports.append(port)
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "rfr",
        "USER": unquote(user),
        "PASSWORD": unquote(password),
        # libpq reads a host given as an option (a socket folder) when the URL has none.
        "HOST": ",".join(hosts) if any(hosts) else options.pop("host", ""),
        "PORT": ",".join(ports) if any(ports) else options.pop("port", ""),
        "OPTIONS": options,
    }


def _secret_key() -> str:
    if key := os.environ.get("RFR_SECRET_KEY"):
        return key
    # Single-machine default: a key generated once and kept beside the data. Several
    # app servers must share RFR_SECRET_KEY instead.
    path = runtime.data_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


VERSION = __version__
DEBUG = envbool("RFR_DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("RFR_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("RFR_CSRF_TRUSTED_ORIGINS")
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload lists whole registrable domains (firma.de), submitted by hand at
    # hstspreload.org; an intranet app cannot decide that (docs/operations.md).
    "security.W021",
]

CSRF_FAILURE_VIEW = "raumfuerraum.csrf.csrf_failure"
if envbool("RFR_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    # A browser that has reached us over https once never tries plain http again (a year).
    # Subdomains of the app's own host name are included; preloading is a decision for the
    # whole company domain, not for one app (security.W021 is silenced above for that).
    SECURE_HSTS_SECONDS = envint("RFR_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("RFR_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("RFR_HSTS_PRELOAD")
    # RFR_SSL_REDIRECT=off when the proxy redirects already (deploy/haproxy does).
    SECURE_SSL_REDIRECT = envbool("RFR_SSL_REDIRECT", True)
    if not SECURE_SSL_REDIRECT:
        # The operator said so: the proxy in front redirects (docs/operations.md).
        SILENCED_SYSTEM_CHECKS.append("security.W008")
    # Probes come over plain http from the load balancer and the monitoring on the host,
    # without X-Forwarded-Proto: a redirect would read as "down".
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Links leave no address behind outside the app: a door display's URL holds its token.
SECURE_REFERRER_POLICY = "same-origin"

# What the browser may load and run: our own files only. No inline script or style (no
# 'unsafe-inline'): the kiosk's inlined assets and the 503 page's style are allowed by
# their hashes on those responses alone (displays/views.py, raumfuerraum/middleware.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        # Nothing frames our pages, the door displays included (they open the page itself).
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features the app never uses are off for every page and anything in it.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

INSTALLED_APPS = [
    "raumfuerraum.apps.AdminConfig",  # django.contrib.admin, with room labels in autocompletes
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "raumfuerraum",
    "ops",
    "bookings",
    "displays",
    "orders",
    "visitors",
    "reports",
    "privacy",
    "integrations",
    "integrations.directory",
    "integrations.sap",
    "integrations.exchange",
    "raumfuerraum.apps.AxesConfig",  # django-axes, with a section name people understand
    "csp",
]

MIDDLEWARE = [
    # First: every log line of the request, and what it queues, carries its id.
    "raumfuerraum.logs.RequestIdMiddleware",
    "raumfuerraum.middleware.RequestMetricsMiddleware",
    # Compresses last, so whatever the others add is compressed too: the day plan of a
    # 200-room site is ~250 KiB of HTML and ~20 KiB gzipped. Django's middleware pads each
    # answer with random bytes against BREACH, and CSRF tokens are masked per answer.
    "django.middleware.gzip.GZipMiddleware",
    "raumfuerraum.middleware.VersionHeaderMiddleware",
    # Outside everything that answers on its own (503 page, JSON errors), so they get it too.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "raumfuerraum.middleware.ApiErrorsAsJsonMiddleware",
    # Outside the session middleware, so a database lost mid-request is a 503, never a 500.
    "raumfuerraum.middleware.DatabaseAvailabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # In the caller's language, before anything reads the body: 413 under /api/.
    "raumfuerraum.middleware.ApiBodyGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in that django-axes locked out into the page that says so.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "raumfuerraum.urls"
WSGI_APPLICATION = "raumfuerraum.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "raumfuerraum" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "raumfuerraum.read_only.context",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    _database = database_from_url(os.environ["DATABASE_URL"])
else:
    _database = runtime.database_settings()
_database.setdefault("OPTIONS", {}).setdefault("connect_timeout", envint("RFR_DB_CONNECT_TIMEOUT", 5))
DATABASES = {
    "default": {
        **_database,
        # Keep connections per thread, but check them before use so a database
        # fail-over costs one reconnect instead of a stream of errors.
        "CONN_MAX_AGE": envint("RFR_DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": os.environ.get("RFR_TEST_DB_NAME", "test_rfr")},
    }
}
# Behind PgBouncer in transaction pooling (deploy/pgbouncer, docs/operations.md): two
# transactions of one connection may run on two server connections, so nothing may
# outlive a transaction. Django's cursors for .iterator() (WITH HOLD) would, and so would
# psycopg's prepared statements (Django leaves them off; this keeps them off).
RFR_DB_TRANSACTION_POOLING = envbool("RFR_DB_TRANSACTION_POOLING")
if RFR_DB_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or runtime.redis_url()


def celery_broker_url(redis_url: str) -> str:
    """Celery's name for ``redis_url``: a Unix socket is redis+socket://, and kombu takes its
    database as ``virtual_host`` there (it drops ``db``, which would send to database 0)."""
    if not redis_url.startswith("unix://"):
        return redis_url
    path, _sep, query = redis_url[len("unix://") :].partition("?")
    params = [(k, v) for k, v in parse_qsl(query) if k != "db"]
    params += [("virtual_host", v) for k, v in parse_qsl(query) if k == "db"]
    return "redis+socket://" + path + ("?" + urlencode(params) if params else "")


_broker = celery_broker_url(REDIS_URL)
CELERY_BROKER_URL = _broker
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that queues a task must never hang on a missing Redis: the outbox row
# is already committed and the periodic sweep delivers it later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 0}
CELERY_TASK_PUBLISH_RETRY = False
# Every app server may run beat: each run is claimed per tick in Redis first, so a job runs
# once per tick however many beats are up, and on as long as one is (raumfuerraum/beat.py).
CELERY_BEAT_SCHEDULER = "raumfuerraum.beat:OncePerTickScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {
        "task": "bookings.tasks.sweep_outbox",
        "schedule": float(envint("RFR_OUTBOX_SWEEP_SECONDS", 30)),
    },
    "flush-display-last-seen": {"task": "displays.tasks.flush_last_seen", "schedule": 60.0},
    "release-no-shows": {"task": "bookings.tasks.release_no_shows", "schedule": 60.0},
    "expire-approvals": {"task": "bookings.tasks.expire_approvals", "schedule": 60.0},
    # Every retention rule set in the admin (privacy.RetentionRule), visitors' data included.
    "apply-retention": {"task": "privacy.tasks.apply_retention_task", "schedule": 3600.0},
    "sweep-waiting-list": {"task": "bookings.tasks.sweep_waiting_list", "schedule": 60.0},
    # The reports' daily roll-up: changed days every 5 minutes, the finished days hourly.
    "reports-refresh-changed": {"task": "reports.tasks.refresh_changed_task", "schedule": 300.0},
    "reports-roll-up-recent": {"task": "reports.tasks.roll_up_recent_task", "schedule": 3600.0},
}
# Visitors' names and contacts are erased this many days after their visit (docs/privacy.md):
# the first value of the admin's retention rule for visitors, which wins from then on.
RFR_VISITOR_RETENTION_DAYS = envint("RFR_VISITOR_RETENTION_DAYS", 30, minimum=0)
# Codes a self check-in kiosk may send per minute (visitors/kiosk.py): guessing stays hopeless.
RFR_KIOSK_ATTEMPTS_PER_MINUTE = envint("RFR_KIOSK_ATTEMPTS_PER_MINUTE", 10, minimum=1)
# A TrueType font for badges (any script); unset: DejaVu Sans where the OS has it, else
# the PDF's built-in Helvetica, which holds Latin-1 only (visitors/badges.py).
RFR_BADGE_FONT = os.environ.get("RFR_BADGE_FONT", "")
if RFR_BADGE_FONT and not Path(RFR_BADGE_FONT).is_file():
    raise ImproperlyConfigured(f"RFR_BADGE_FONT: no font file at {RFR_BADGE_FONT}")
CELERY_TIMEZONE = "UTC"
# The worker logs through LOGGING above (the request id, JSON lines), not Celery's own set-up.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Database sessions that are not written while the database is read-only (DR standby).
SESSION_ENGINE = "raumfuerraum.sessions"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "bookings:home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in: local accounts always (the emergency admin), the company directory when
# RFR_LDAP_SERVER_URI is set, and in front of both a brute-force lock per login name and
# client address. Settings only switch the directory on: the directory app reads and checks
# every other RFR_LDAP_* variable as Django starts and keeps them as RFR_LDAP
# (integrations/directory/apps.py), as the project package imports no app.
_directory_on = bool(envlist("RFR_LDAP_SERVER_URI"))
AUTHENTICATION_BACKENDS = [
    "integrations.directory.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    *(["integrations.directory.backend.DirectoryBackend"] if _directory_on else []),
]
if _directory_on:
    CELERY_BEAT_SCHEDULE["directory-sync"] = {
        "task": "integrations.directory.tasks.sync_directory_task",
        "schedule": 60.0 * envint("RFR_LDAP_SYNC_MINUTES", 15, minimum=1),
    }
AXES_FAILURE_LIMIT = envint("RFR_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("RFR_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are what matter; no write per successful sign-in
AXES_USERNAME_CALLABLE = "integrations.directory.throttle.lockout_username"
AXES_WHITELIST_CALLABLE = "integrations.directory.throttle.failure_not_counted"
AXES_LOCKOUT_CALLABLE = "integrations.directory.throttle.lockout_response"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# UTC in the database; each site's own zone at the edges.
TIME_ZONE = os.environ.get("RFR_TIME_ZONE", "Europe/Berlin")

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("RFR_STATIC_ROOT") or runtime.data_dir() / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("RFR_MEDIA_ROOT") or runtime.data_dir() / "media")
STORAGES = {
    # Room photos and other media are write-once and named by their sha256.
    "default": {"BACKEND": "bookings.storage.ContentAddressedStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("RFR_STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Where outbox messages go; each channel is delivered and retried on its own.
RFR_OUTBOX_CHANNELS = {
    "log": "bookings.outbox.log_sink",
    # Door displays: bump the room's status version in Redis; push to displays that take it.
    "displays": "displays.sinks.bump_room_version",
    "display_push": "displays.sinks.push_room_status",
    # Mail to organizers and room managers, with an iCalendar attachment.
    "mail": "bookings.notifications.mail.mail_sink",
    # Mail to service providers about their order lines (orders app).
    "provider_mail": "orders.mail.provider_mail_sink",
    # Visits follow their bookings; invitations to visitors, arrivals to hosts.
    "visitors": "visitors.sinks.deliver",
}
# The topic prefixes a channel takes (a channel not listed takes every topic): one outbox
# row per channel that acts on the change, not one per channel.
RFR_OUTBOX_TOPICS = {
    "provider_mail": ("order.",),
    "visitors": ("booking.", "series.", "meeting.", "blocking.", "visitor."),
}
# Exchange calendar sync (integrations/exchange reads its RFR_EWS_*/RFR_GRAPH_* variables
# itself): bookings go out through the outbox, Outlook's meetings come in on a schedule.
if os.environ.get("RFR_EXCHANGE_BACKEND", "off").strip().lower() not in ("", "off"):
    RFR_OUTBOX_CHANNELS["exchange"] = "integrations.exchange.sinks.exchange_sink"
    CELERY_BEAT_SCHEDULE["exchange-sync"] = {
        "task": "integrations.exchange.tasks.sync_exchange_task",
        "schedule": float(envint("RFR_EXCHANGE_SYNC_SECONDS", 60, minimum=5)),
    }
# Door displays: their URLs start with RFR_PUBLIC_URL; one that has not polled for
# RFR_DISPLAY_OFFLINE_MINUTES counts as offline; door actions are limited per display.
RFR_PUBLIC_URL = os.environ.get("RFR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
RFR_DISPLAY_POLL_SECONDS = envint("RFR_DISPLAY_POLL_SECONDS", 15)
RFR_DISPLAY_OFFLINE_MINUTES = envint("RFR_DISPLAY_OFFLINE_MINUTES", 5)
RFR_DISPLAY_ACTIONS_PER_MINUTE = envint("RFR_DISPLAY_ACTIONS_PER_MINUTE", 6)
# Failed bearer-token attempts per client address and minute before the API answers 429.
RFR_API_AUTH_FAILURES_PER_MINUTE = envint("RFR_API_AUTH_FAILURES_PER_MINUTE", 20, minimum=1)
RFR_READ_ONLY = envbool("RFR_READ_ONLY")
# A series' owner hears of its no-shows (released occurrences) at this many, and each multiple.
RFR_NO_SHOW_REPORT_AFTER = envint("RFR_NO_SHOW_REPORT_AFTER", 3)
# Utilisation reports show a group's figures only from this many members; smaller groups
# are merged into one row (works councils ask that no figure points at a few people).
RFR_REPORT_MIN_GROUP_SIZE = envint("RFR_REPORT_MIN_GROUP_SIZE", 5, minimum=1)
# The domain part of calendar UIDs (booking-42@DOMAIN): set once, never change it, or
# calendar clients would see every booking as a new one.
RFR_CALENDAR_DOMAIN = os.environ.get("RFR_CALENDAR_DOMAIN", "raumfuerraum.invalid")
# Backups (manage.py backup/restore/verify_backup): base backups, the WAL archive, media.
RFR_BACKUP_DIR = os.environ.get("RFR_BACKUP_DIR", "")


def mail_address(value: str) -> str:
    """``raum]für[raum <raum@firma.de>`` with the name quoted, as RFC 5322 wants it."""
    name, sep, rest = value.strip().rpartition("<")
    name = name.strip().strip('"')
    if not sep or not name:
        return value.strip()
    return '"{}" <{}'.format(name.replace("\\", "\\\\").replace('"', '\\"'), rest)


# Mail (bookings/notifications): SMTP when RFR_SMTP_HOST is set; without it (the demo)
# every mail is written as a file to RFR_DATA_DIR/mail, to be looked at.
EMAIL_HOST = os.environ.get("RFR_SMTP_HOST", "")
EMAIL_PORT = envint("RFR_SMTP_PORT", 25)
EMAIL_HOST_USER = os.environ.get("RFR_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("RFR_SMTP_PASSWORD", "")
if os.environ.get("RFR_SMTP_PASSWORD_FILE"):
    EMAIL_HOST_PASSWORD = Path(os.environ["RFR_SMTP_PASSWORD_FILE"]).read_text().strip("\r\n")
EMAIL_USE_TLS = envbool("RFR_SMTP_STARTTLS")
EMAIL_USE_SSL = envbool("RFR_SMTP_SSL")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set RFR_SMTP_STARTTLS or RFR_SMTP_SSL, not both.")
EMAIL_TIMEOUT = envint("RFR_SMTP_TIMEOUT", 10)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(runtime.data_dir() / "mail")
DEFAULT_FROM_EMAIL = SERVER_EMAIL = mail_address(
    os.environ.get("RFR_MAIL_FROM", "raum]für[raum <raumbuchung@localhost>")
)
# There is no language per user yet: every mail speaks this one.
RFR_MAIL_LANGUAGE = os.environ.get("RFR_MAIL_LANGUAGE") or LANGUAGE_CODE
# Reminders this many minutes before a confirmed booking starts; 0 turns them off.
RFR_REMINDER_MINUTES = envint("RFR_REMINDER_MINUTES", 0)
if RFR_REMINDER_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["send-reminders"] = {"task": "bookings.tasks.send_reminders", "schedule": 60.0}

# SAP export (orders): numbered batches of CO/FI postings, written atomically into this
# folder, and copied into the copy folder where one is set (a share SAP picks them up from).
RFR_SAP_EXPORT_DIR = Path(os.environ.get("RFR_SAP_EXPORT_DIR") or runtime.data_dir() / "sap-export")
RFR_SAP_EXPORT_COPY_DIR = os.environ.get("RFR_SAP_EXPORT_COPY_DIR", "")
RFR_SAP_CONTROLLING_AREA = os.environ.get("RFR_SAP_CONTROLLING_AREA", "1000")
RFR_SAP_COMPANY_CODE = os.environ.get("RFR_SAP_COMPANY_CODE", "1000")
# Where the CO lines go: "file" (the default: CSV and XLSX into the folder above),
# "odata": posted live through integrations/sap to the Gateway at RFR_SAP_ODATA_URL, or
# "rfc": posted through BAPIs over RFC (the optional pyrfc extra and SAP's NW RFC SDK; at
# RFR_SAP_RFC_DEST or RFR_SAP_RFC_ASHOST), each batch once (FI lines, which SAP's activity
# allocation does not take, stay in the file).
RFR_SAP_TARGET = os.environ.get("RFR_SAP_TARGET", "file").strip().lower() or "file"
if RFR_SAP_TARGET not in ("file", "odata", "rfc"):
    raise ImproperlyConfigured("RFR_SAP_TARGET must be file, odata or rfc")
if RFR_SAP_TARGET == "odata" and not os.environ.get("RFR_SAP_ODATA_URL", "").strip():
    raise ImproperlyConfigured("RFR_SAP_TARGET=odata needs RFR_SAP_ODATA_URL")
if RFR_SAP_TARGET == "rfc" and not (
    os.environ.get("RFR_SAP_RFC_DEST", "").strip() or os.environ.get("RFR_SAP_RFC_ASHOST", "").strip()
):
    raise ImproperlyConfigured("RFR_SAP_TARGET=rfc needs RFR_SAP_RFC_DEST or RFR_SAP_RFC_ASHOST")
# The beat writes a batch this often (minutes); 0 leaves it to `manage.py export_sap`.
RFR_SAP_EXPORT_MINUTES = envint("RFR_SAP_EXPORT_MINUTES", 60)
if RFR_SAP_EXPORT_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["export-sap"] = {
        "task": "orders.tasks.export_sap",
        "schedule": 60.0 * RFR_SAP_EXPORT_MINUTES,
    }
    if RFR_SAP_TARGET in ("odata", "rfc"):
        # Posts the batches the export left pending (and retries those SAP could not take).
        CELERY_BEAT_SCHEDULE["post-sap"] = {
            "task": "integrations.sap.tasks.post_sap",
            "schedule": 60.0 * RFR_SAP_EXPORT_MINUTES,
        }

# A user's default cost centre where an admin set none: this field of their directory
# account (which directory attribute fills it is RFR_LDAP_ATTRIBUTE_MAP's business), matched
# with a cost centre's code; empty turns it off.
RFR_COST_CENTRE_ATTRIBUTE = os.environ.get("RFR_COST_CENTRE_ATTRIBUTE", "department").strip()
if RFR_COST_CENTRE_ATTRIBUTE not in ("", "department", "phone"):
    raise ImproperlyConfigured("RFR_COST_CENTRE_ATTRIBUTE must be department, phone or empty")
# Before its cut-off an order is not mailed singly: each provider gets one summary a day at
# this local time of its site (HH:MM), sent by a beat job that looks every few minutes.
RFR_ORDER_SUMMARY_TIME = os.environ.get("RFR_ORDER_SUMMARY_TIME", "14:00").strip()
try:
    _summary_hour, _summary_minute = (int(part) for part in RFR_ORDER_SUMMARY_TIME.split(":"))
    if not (0 <= _summary_hour < 24 and 0 <= _summary_minute < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured("RFR_ORDER_SUMMARY_TIME must be a time of day as HH:MM") from None
CELERY_BEAT_SCHEDULE["order-summaries"] = {"task": "orders.tasks.send_summaries", "schedule": 300.0}

# RFR_LOG_FORMAT=json: one JSON object per line (raumfuerraum/logs.py); text otherwise.
# Either way each line carries the request id (X-Request-ID), in the web and the worker.
RFR_LOG_FORMAT = envchoice("RFR_LOG_FORMAT", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "raumfuerraum.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "raumfuerraum.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if RFR_LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("RFR_LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in attempt at INFO; its warnings (failures, lock-outs) stay.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
