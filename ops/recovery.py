"""Point-in-time recovery from a backup repository (see ops.backup for its layout).

The newest base backup finished before the target time is unpacked into a new folder laid
out like RFR_DATA_DIR, PostgreSQL replays the WAL archive up to the target
(recovery_target_time) and is promoted, and the media backup is copied beside it. Times the
repository cannot reach are refused before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings

from . import runtime
from .backup import (
    BackupError,
    BaseBackup,
    Repository,
    Say,
    WalChain,
    _chown_tree_for_pg,
    check_space,
    fmt_time,
    human_size,
    no_space_is_clear,
    referenced_media,
    sync_media,
)


@dataclass
class RestoredServer:
    """A PostgreSQL started on a restored data folder (``root`` is laid out like RFR_DATA_DIR)."""

    root: Path
    dbname: str = ""
    user: str = ""
    port: int | None = None

    @property
    def data(self) -> Path:
        return self.root / "postgres"

    @property
    def socket_dir(self) -> Path:
        return runtime.socket_dir(self.root)

    @property
    def log(self) -> Path:
        return self.root / "log" / "postgres.log"

    def conninfo(self, dbname: str | None = None) -> str:
        return psycopg.conninfo.make_conninfo(
            host=str(self.socket_dir),
            port=str(self.port or 5432),
            user=self.user,
            dbname=dbname or self.dbname,
            connect_timeout="5",
        )

    def connect(self, dbname: str | None = None) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=True)

    def pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if runtime._process_alive(pid, "postgres") else None

    def status(self) -> str:
        """The postmaster's state from postmaster.pid: starting, standby, ready or stopping."""
        try:
            return (self.data / "postmaster.pid").read_text().split("\n")[7].strip()
        except (OSError, IndexError):
            return ""

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)  # fast shutdown, as pg_ctl stop -m fast
        if not runtime._wait_gone(pid, "postgres", 60):
            os.kill(pid, signal.SIGQUIT)
            runtime._wait_gone(pid, "postgres", 10)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def parse_target(text: str) -> datetime | None:
    """``latest`` (None), or an ISO 8601 time; without an offset it is the server's local time."""
    if text.strip().lower() == "latest":
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" UTC", "+00:00"))
    except ValueError as exc:
        raise BackupError(
            f"{text!r} is not a time: use ISO 8601, e.g. '2026-11-24 14:30:00+01:00', or 'latest'."
        ) from exc
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return moment


def _pg_major(pg_bin: Path) -> str:
    out = subprocess.run(
        [str(pg_bin / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return re.search(r"(\d+)", out.split(")")[-1]).group(1)


def _extract(backup: BaseBackup, data: Path, say: Say) -> None:
    if backup.meta["format"] == "plain":
        say(f"  copying {backup.label} ({human_size(backup.meta['size_bytes'])}) ...")
        shutil.copytree(
            backup.path, data, dirs_exist_ok=True, ignore=shutil.ignore_patterns("rfr-backup.json")
        )
        return
    tars = sorted(backup.path.glob("*.tar*"))
    for archive in tars:
        # base.tar.gz is the data folder, pg_wal.tar.gz its WAL, <oid>.tar.gz a tablespace.
        name = archive.name.split(".")[0]
        if name == "base":
            target = data
        elif name == "pg_wal":
            target = data / "pg_wal"
        else:
            raise BackupError(f"{archive.name}: backups with tablespaces are not supported by this command.")
        say(f"  extracting {archive.name} ({human_size(archive.stat().st_size)}) ...")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")


def _recovery_settings(repo: Repository, server: RestoredServer, target: datetime | None) -> str:
    restore_command = f"cp '{repo.wal}/%f' '%p'"
    lines = [
        f"# Written by `manage.py restore` at {fmt_time(datetime.now(UTC))}: point-in-time recovery.",
        f"restore_command = '{restore_command.replace(chr(39), chr(39) * 2)}'",
        "recovery_target_action = 'promote'",
        # A restored copy must never archive into the production archive, wait for a
        # synchronous standby it does not have, or follow the old primary.
        "archive_mode = 'off'",
        "synchronous_standby_names = ''",
        "primary_conninfo = ''",
        f"listen_addresses = '{'127.0.0.1' if server.port else ''}'",
        f"port = {server.port or 5432}",
        f"unix_socket_directories = '{server.socket_dir}'",
        "hot_standby = 'on'",
    ]
    if target is not None:
        lines.append(f"recovery_target_time = '{target.astimezone(UTC).isoformat(sep=' ')}'")
    return "\n".join(lines) + "\n"


def restore(
    repo: Repository,
    *,
    target: datetime | None,
    root: Path,
    port: int | None = None,
    pg_bin: Path | None = None,
    label: str | None = None,
    allow_gap: bool = False,
) -> tuple[RestoredServer, BaseBackup]:
    """Recover into ``root`` (laid out like RFR_DATA_DIR) up to ``target`` and start the server.

    Raises BackupError before touching anything when the time lies outside what the
    repository can reach, and afterwards with the server log when recovery fails.
    """
    say = repo.say
    now = datetime.now(UTC)
    if target is not None and target > now:
        raise BackupError(f"{fmt_time(target)} lies in the future (it is {fmt_time(now)} now).")
    backup = repo.backup_named(label) if label else repo.backup_for(target)
    if target is not None and target < backup.finished_at:
        raise BackupError(
            f"{fmt_time(target)} is before the end of base backup {backup.label} "
            f"({fmt_time(backup.finished_at)}); choose a later time or another backup."
        )
    chain = repo.wal_chain(backup)
    if target is not None and target >= chain.reaches:
        if chain.missing:
            raise BackupError(
                f"Missing WAL: {chain.missing} is not in the archive {repo.wal}, so recovery cannot get "
                f"past {fmt_time(chain.reaches)}; {fmt_time(target)} lies after that. Put the file back "
                "from another copy of the archive, or choose an earlier time."
            )
        raise BackupError(
            f"The WAL archive ends at {fmt_time(chain.reaches)}; {fmt_time(target)} lies after it. The "
            "WAL file in use reaches the archive when it is full or after archive_timeout (a minute): "
            "try again shortly, choose an earlier time, or --to latest."
        )
    if target is None and chain.missing and not allow_gap:
        raise BackupError(
            f"Missing WAL: {chain.missing} is not in the archive {repo.wal}; recovery would stop at "
            f"{fmt_time(chain.reaches)} instead of the latest point."
        )
    pg_bin = pg_bin or runtime.postgres_bin("pg_ctl").parent
    major = str(backup.meta["server_version_num"] // 10000)
    if _pg_major(pg_bin) != major:
        raise BackupError(
            f"Backup {backup.label} is of PostgreSQL {major}, but {pg_bin} holds PostgreSQL "
            f"{_pg_major(pg_bin)}: pass --pg-bin with the binaries of version {major}."
        )
    if root.exists() and any(root.iterdir()):
        raise BackupError(f"{root} is not empty: restore into a new folder.")
    check_space(
        root, int(backup.manifest_size() * 1.1) + 4 * int(backup.meta["wal_segment_size"]), "the restore"
    )

    db = settings.DATABASES["default"]
    server = RestoredServer(root=root, dbname=db["NAME"], user=db["USER"] or "postgres", port=port)
    say(f"Restoring base backup {backup.label} (finished {fmt_time(backup.finished_at)}) into {root} ...")
    with no_space_is_clear(root, "restoring the base backup"):
        for folder in (root, root / "log", server.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        server.data.mkdir(mode=0o700)
        _extract(backup, server.data, say)
        for stale in ("standby.signal", "postmaster.pid", "postmaster.opts"):
            (server.data / stale).unlink(missing_ok=True)
        if not (server.data / "postgresql.conf").exists():
            # Distributions keep it in /etc; a minimal one is enough to recover.
            (server.data / "postgresql.conf").write_text("# minimal, written by manage.py restore\n")
        if not (server.data / "pg_hba.conf").exists():
            (server.data / "pg_hba.conf").write_text("local all all trust\n")
        with open(server.data / "postgresql.auto.conf", "a") as conf:
            conf.write("\n" + _recovery_settings(repo, server, target))
        (server.data / "recovery.signal").touch()
        server.log.touch()
    pg_user = runtime._as_pg_user()
    if pg_user:
        _chown_tree_for_pg(server.data)
        _chown_tree_for_pg(server.log)
        runtime._ensure_traversable(root)
        runtime._ensure_traversable(repo.root)  # wal/ itself belongs to the server's user
        server.socket_dir.chmod(0o777)
    else:
        server.socket_dir.chmod(0o700)
    server.data.chmod(0o700)
    goal = fmt_time(target) if target else "the end of the archive"
    say(f"Starting PostgreSQL and replaying the WAL archive up to {goal} ...")
    subprocess.run(
        [str(pg_bin / "pg_ctl"), "start", "-W", "-D", str(server.data), "-l", str(server.log)],
        check=True,
        capture_output=True,
        start_new_session=True,
        **pg_user,
    )
    _wait_for_promotion(server, repo, target, chain, say)
    return server, backup


def _wait_for_promotion(server: RestoredServer, repo: Repository, target, chain: WalChain, say: Say) -> None:
    last_report = started = time.monotonic()
    while True:
        time.sleep(0.3)
        if server.pid() is None and time.monotonic() - started > 2:
            raise _recovery_failed(server, repo, target, chain)
        in_recovery, replayed = True, None
        # Ask only once postmaster.pid says it takes connections, or the log fills with refusals.
        if server.status() in ("ready", "standby"):
            try:
                with server.connect("postgres") as conn:
                    in_recovery, replayed = conn.execute(
                        "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()"
                    ).fetchone()
            except psycopg.OperationalError:
                pass
        if not in_recovery:
            say("  recovery finished; the restored server accepts writes.")
            return
        if time.monotonic() - last_report > 5:
            where = f"at {fmt_time(replayed)}" if replayed else "(not yet consistent)"
            say(f"  replaying WAL {where} ...")
            last_report = time.monotonic()


def _recovery_failed(server: RestoredServer, repo: Repository, target, chain: WalChain) -> BackupError:
    log = server.log_tail(40)
    where = f"The restored folder {server.root} is kept for inspection; its log ends:\n{server.log_tail()}"
    if "recovery ended before configured recovery target was reached" in log:
        if chain.missing:
            return BackupError(
                f"Missing WAL: recovery stopped at the gap before {chain.missing} (not in {repo.wal}), "
                f"before reaching {fmt_time(target)}. {where}"
            )
        return BackupError(
            f"The WAL archive ends before {fmt_time(target)}: no transaction after that time has been "
            f"archived yet. Choose an earlier time or try again after the next WAL file is archived. {where}"
        )
    if "before consistent recovery point" in log:
        return BackupError(f"{fmt_time(target)} is before the end of the base backup. {where}")
    if "could not" in log and ("restore_command" in log or "No such file" in log):
        return BackupError(f"Missing WAL: recovery needed a file the archive does not have. {where}")
    return BackupError(f"PostgreSQL stopped during recovery. {where}")


def restore_media(repo: Repository, server: RestoredServer) -> tuple[int, list[str]]:
    """Copy the media backup beside the restored database; returns (files copied, referenced but missing)."""
    copied, _present, size = sync_media(repo.media, server.root / "media", repo.say)
    repo.say(f"  media: {copied} files ({human_size(size)}) copied to {server.root / 'media'}")
    with server.connect() as conn:
        names = referenced_media(conn)
    missing = [name for name in names if not (server.root / "media" / name).is_file()]
    return len(names), missing


def usage_hint(server: RestoredServer) -> str:
    python = Path(sys.executable).name
    url = f"postgresql://{server.user}@/{server.dbname}?host={server.socket_dir}"
    lines = [
        f"The restored database runs on the socket in {server.socket_dir}"
        + (f" and on 127.0.0.1:{server.port}" if server.port else "")
        + f" (data {server.data}, log {server.log}).",
    ]
    if server.port is None:
        lines.append(
            f"Serve it with the embedded set-up:   RFR_DATA_DIR={server.root} {python} manage.py ..."
        )
    else:
        url += f"&port={server.port}"
    lines += [
        f"or point the app at it:              DATABASE_URL='{url}' RFR_MEDIA_ROOT={server.root / 'media'}",
        f"Stop it:                             RFR_DATA_DIR={server.root} {python} manage.py embedded stop",
        "It does not archive WAL: once it is the production database, configure archiving and take a "
        "new base backup.",
    ]
    return "\n".join(lines)
