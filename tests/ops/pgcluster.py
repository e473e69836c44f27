"""Real PostgreSQL servers for the HA tests: a primary, a streaming standby, a promotion.

Built from the embedded binaries (``runtime.postgres_bin``) on loopback TCP ports, each in
its own folder under a ``tempfile.mkdtemp()`` root (chmod 0755: when the suite runs as root
the servers run as ``rfr-postgres``, which must reach its data). Every server started here
is killed in ``cleanup()``, whatever happened before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from ops import runtime
from tests.conftest import ROOT, free_port


def make_root(prefix: str) -> Path:
    # Not pytest's tmp_path: pytest resets its root to 0700 and the server user could not
    # reach its data below it.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def remove_root(path: Path) -> None:
    """Delete a make_root() folder; once more after a moment if a server was still writing."""
    for _attempt in range(3):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(1)


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        runtime._as_pg_user()  # creates the system user on first use
        for item in [path, *path.rglob("*")]:
            shutil.chown(item, runtime.PG_SYSTEM_USER, runtime.PG_SYSTEM_USER)


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, **runtime._as_pg_user(), **kwargs
    )
    if result.returncode != 0:
        raise RuntimeError(f"{Path(str(args[0])).name} failed ({result.returncode}): {result.stderr}")
    return result


class Node:
    """One PostgreSQL server: its data folder, port and log."""

    def __init__(self, root: Path, name: str):
        self.name = name
        self.port = free_port()
        self.dir = root / name
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.dir.mkdir(parents=True)
        self.dir.chmod(0o755)
        self._pids: set[int] = set()

    # --- creating -----------------------------------------------------------------

    def initdb(self, **settings) -> None:
        self.data.mkdir(mode=0o700)
        _chown(self.dir)
        _run(
            [
                runtime.postgres_bin("initdb"),
                "-D",
                self.data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
            ]
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists 'test.conf'\n")
        self.configure(**settings)

    def basebackup_from(self, primary: Node, **settings) -> None:
        """A streaming standby of ``primary``: pg_basebackup -R, named for synchronous_standby_names."""
        _chown(self.dir)
        _run(
            [
                runtime.postgres_bin("pg_basebackup"),
                "-d",
                f"host=127.0.0.1 port={primary.port} user=postgres application_name={self.name}",
                "-D",
                self.data,
                "-X",
                "stream",
                "-R",
                "-c",
                "fast",
            ]
        )
        self.configure(**settings)

    def configure(self, **settings) -> None:
        """Write test.conf (port, loopback only, plus ``settings``); included by postgresql.conf."""
        values = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "max_connections": "100",
            "shared_buffers": "32MB",
            "wal_level": "replica",
            "hot_standby": "on",
            "logging_collector": "off",
            **{k: str(v) for k, v in settings.items()},
        }
        path = self.data / "test.conf"
        path.write_text("".join(f"{k} = {v}\n" for k, v in values.items()))
        _chown(path)

    # --- running ------------------------------------------------------------------

    def start(self) -> None:
        if not self.log.exists():
            self.log.touch()
            _chown(self.log)
        _run(
            [runtime.postgres_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", self.data, "-l", self.log],
            start_new_session=True,
        )
        self._pids.add(self.pid())

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def stop(self) -> None:
        _run([runtime.postgres_bin("pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast", "-D", self.data])

    def kill9(self) -> int:
        """SIGKILL to the postmaster alone, as a crashed machine would leave it."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def promote(self) -> None:
        _run([runtime.postgres_bin("pg_ctl"), "promote", "-w", "-t", "60", "-D", self.data])

    def cleanup(self) -> None:
        """Kill what this node started: each postmaster's process group (its backends too)."""
        for pid in self._pids:
            # pg_ctl starts the postmaster in a session of its own, so its pid is its group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    # --- talking to it --------------------------------------------------------------

    def url(self, dbname: str = "rfr") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "rfr", **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5, **kwargs)

    def query(self, sql: str, params=None, dbname: str = "rfr") -> list[tuple]:
        with self.connect(dbname) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (psycopg.Error, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_replayed(primary: Node, standby: Node, timeout: float = 30) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    (lsn,) = primary.query("SELECT pg_current_wal_lsn()::text", dbname="postgres")[0]
    wait_for(
        lambda: standby.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn], dbname="postgres")[0][
            0
        ],
        timeout,
        f"{standby.name} to replay up to {lsn}",
    )


def test_redis_url() -> str:
    # The suite's Redis, on a database of its own, so the outbox kicks queued here stay apart.
    return runtime.redis_url().replace("db=0", "db=9")


def flush_test_redis() -> None:
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(test_redis_url()).flushdb()


def app_env(data_dir: Path, database_url: str | None, **extra: str) -> dict:
    """A production-settings environment for manage.py or gunicorn in a subprocess."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "RFR_")) and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
            "RFR_DATA_DIR": str(data_dir),
            "RFR_SECRET_KEY": "ha-tests-" + "x" * 40,
            "REDIS_URL": test_redis_url(),
            "RFR_STATIC_MANIFEST": "0",
            "RFR_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def start_gunicorn(env: dict, port: int, log: Path, workers: int = 2, threads: int = 8) -> subprocess.Popen:
    """gunicorn with the production configuration (deploy/gunicorn.conf.py)."""
    env = {
        **env,
        "RFR_WEB_BIND": f"127.0.0.1:{port}",
        "RFR_WEB_WORKERS": str(workers),
        "RFR_WEB_THREADS": str(threads),
        "RFR_WEB_GRACEFUL_TIMEOUT": "5",
        "RFR_WEB_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "raumfuerraum.wsgi",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_process(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
