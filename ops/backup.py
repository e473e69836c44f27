"""Backups: base backups, the continuous WAL archive and the media store, in one repository.

Layout of a repository (``RFR_BACKUP_DIR``)::

    base/<label>/      pg_basebackup output (tar + gzip, or plain) with its backup_manifest,
                       and rfr-backup.json: when it was taken, its WAL range, the server
    wal/               the WAL archive; the embedded server writes it with basic_archive
    media/             a copy of the media store; files are write-once and named by their
                       sha256, so only new ones are copied and any restore point finds its files
    cluster.json       which database cluster the repository belongs to

A restore takes the newest base backup finished before the target time, replays the
archive up to it (recovery_target_time) in a new data folder, starts the server there and
copies the media back (ops.recovery). ``verify_backup`` does the same as a trial,
then throws it away.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection

from . import runtime

Say = Callable[[str], None]

WAL_NAME = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$")
# libpq options of DATABASES["default"]["OPTIONS"] that pg_basebackup understands too.
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "connect_timeout",
    "target_session_attrs",
    "application_name",
    "options",
    "passfile",
}
ARCHIVE_WAIT_SECONDS = 60


class BackupError(Exception):
    """A backup, restore or check could not be done; the message says why and what to do."""


# --- small helpers ------------------------------------------------------------------------


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def fmt_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def parse_lsn(text: str) -> int:
    high, _sep, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def wal_file_name(timeline: int, lsn: int, segment_size: int) -> str:
    segno = lsn // segment_size
    per_id = 0x100000000 // segment_size
    return f"{timeline:08X}{segno // per_id:08X}{segno % per_id:08X}"


def wal_segno(name: str, segment_size: int) -> tuple[int, int]:
    """(timeline, segment number) of a WAL file name."""
    match = WAL_NAME.match(name)
    if not match:
        raise ValueError(name)
    timeline, high, low = (int(g, 16) for g in match.groups())
    return timeline, high * (0x100000000 // segment_size) + low


def check_space(folder: Path, needed: int, what: str) -> None:
    """Refuse to start what would fill the disk (BackupError names both numbers)."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if needed > free:
        raise BackupError(
            f"Not enough space for {what} in {folder}: needs about {human_size(needed)}, "
            f"only {human_size(free)} free. Free some space or choose another folder."
        )


@contextlib.contextmanager
def no_space_is_clear(folder: Path, what: str):
    """Turn ENOSPC into a BackupError that says where and what."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise BackupError(f"No space left on the device of {folder} while {what}.") from exc
        raise


def _chown_tree_for_pg(path: Path) -> None:
    if os.geteuid() == 0:
        runtime._as_pg_user()  # creates the system user on first use
        for item in [path, *path.rglob("*")]:
            shutil.chown(item, runtime.PG_SYSTEM_USER, runtime.PG_SYSTEM_USER)


def _run_streaming(args: list, say: Say, *, env: dict | None = None, **kwargs) -> tuple[int, str]:
    """Run a PostgreSQL tool, pass its progress lines on (at most every 2 s), keep the output."""
    process = subprocess.Popen(
        [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        **kwargs,
    )
    assert process.stdout is not None
    output: list[str] = []
    shown = 0.0
    buffer = b""
    while chunk := process.stdout.read1(4096):
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for raw in lines:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            output.append(line)
            is_progress = " kB (" in line
            if not is_progress or time.monotonic() - shown > 2:
                say(f"  {line}")
                shown = time.monotonic() if is_progress else shown
    if buffer.strip():
        output.append(buffer.decode(errors="replace").strip())
    return process.wait(), "\n".join(output[-40:])


# --- the repository -----------------------------------------------------------------------


@dataclass
class BaseBackup:
    path: Path
    meta: dict

    @property
    def label(self) -> str:
        return self.meta["label"]

    @property
    def finished_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["finished_at"])

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["started_at"])

    def manifest_size(self) -> int:
        manifest = json.loads((self.path / "backup_manifest").read_text())
        return sum(int(f.get("Size", 0)) for f in manifest.get("Files", []))


@dataclass
class Repository:
    root: Path
    say: Say = field(default=print, repr=False)

    @classmethod
    def configured(cls, root: str | Path | None = None, say: Say = print) -> Repository:
        folder = root or getattr(settings, "RFR_BACKUP_DIR", "")
        if not folder:
            raise BackupError(
                "No backup repository: set RFR_BACKUP_DIR (for every process of the app, so the "
                "embedded database archives its WAL there) or pass --repo."
            )
        return cls(Path(folder).resolve(), say)

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def wal(self) -> Path:
        return self.root / "wal"

    @property
    def media(self) -> Path:
        return self.root / "media"

    def prepare(self) -> None:
        """Create the folders: only their owner reads them (the base backups hold all data)."""
        with no_space_is_clear(self.root, "creating the repository"):
            self.root.mkdir(parents=True, exist_ok=True)
            # Others may pass through (the database server's own user reaches wal/), not list.
            self.root.chmod(0o711)
            for folder in (self.base, self.media):
                folder.mkdir(exist_ok=True)
                folder.chmod(0o700)
            if not self.wal.exists():
                self.wal.mkdir()
                if runtime.uses_embedded_postgres():
                    _chown_tree_for_pg(self.wal)
            with contextlib.suppress(PermissionError):  # the database server's user may own it
                self.wal.chmod(0o700)

    def check_cluster(self, system_identifier: str | None, version: str) -> None:
        """One repository, one database cluster: WAL of two clusters must never mix."""
        path = self.root / "cluster.json"
        if path.exists():
            known = json.loads(path.read_text())
            if system_identifier and known.get("system_identifier") not in (None, system_identifier):
                raise BackupError(
                    f"{self.root} holds backups of another database cluster (system identifier "
                    f"{known['system_identifier']}, this one is {system_identifier}). "
                    "Use a new, empty backup folder for this database."
                )
            return
        path.write_text(
            json.dumps({"system_identifier": system_identifier, "server_version": version}, indent=2)
        )

    def backups(self) -> list[BaseBackup]:
        """Completed base backups, oldest first."""
        found = []
        if self.base.is_dir():
            for meta in self.base.glob("*/rfr-backup.json"):
                with contextlib.suppress(OSError, ValueError):
                    found.append(BaseBackup(meta.parent, json.loads(meta.read_text())))
        return sorted(found, key=lambda b: b.finished_at)

    def backup_named(self, label: str | None) -> BaseBackup:
        backups = self.backups()
        if not backups:
            raise BackupError(f"There is no base backup in {self.base} yet: run `python manage.py backup`.")
        if label is None:
            return backups[-1]
        for backup in backups:
            if backup.label == label:
                return backup
        raise BackupError(
            f"No base backup {label!r} in {self.base}; there are: {', '.join(b.label for b in backups)}"
        )

    def backup_for(self, target: datetime | None) -> BaseBackup:
        """The newest base backup finished before ``target`` (None: the newest of all)."""
        backups = self.backups()
        if not backups:
            raise BackupError(f"There is no base backup in {self.base} yet: run `python manage.py backup`.")
        if target is None:
            return backups[-1]
        usable = [b for b in backups if b.finished_at <= target]
        if not usable:
            raise BackupError(
                f"{fmt_time(target)} is before the earliest backup in {self.root}: the earliest point "
                f"that can be restored is {fmt_time(backups[0].finished_at)} (the end of base backup "
                f"{backups[0].label})."
            )
        return usable[-1]

    # --- the WAL archive ------------------------------------------------------------------

    def wal_chain(self, backup: BaseBackup) -> WalChain:
        """How far the archive reaches without a gap from ``backup`` on."""
        size = int(backup.meta["wal_segment_size"])
        timeline = int(backup.meta["timeline"])
        start = wal_segno(backup.meta["start_wal"], size)[1]
        end = wal_segno(backup.meta["end_wal"], size)[1]
        archived: dict[int, Path] = {}
        if self.wal.is_dir():
            for path in self.wal.iterdir():
                with contextlib.suppress(ValueError):
                    tli, segno = wal_segno(path.name, size)
                    if tli >= timeline and segno >= start:
                        archived.setdefault(segno, path)
        last = end  # the backup carries its own WAL up to its end
        while last + 1 in archived:
            last += 1
        later = sorted(s for s in archived if s > last + 1)
        missing = wal_file_name(timeline, (last + 1) * size, size) if later else None
        if last in archived:
            reaches = datetime.fromtimestamp(archived[last].stat().st_mtime, UTC)
        else:
            reaches = backup.finished_at
        return WalChain(
            last_segment=archived.get(last), reaches=reaches, missing=missing, segments=len(archived)
        )


@dataclass
class WalChain:
    last_segment: Path | None
    # Every commit in the unbroken part of the archive happened before this (its last
    # file's archive time): a target after it cannot be reached.
    reaches: datetime
    missing: str | None  # the first absent file when later ones exist (a gap)
    segments: int


# --- media --------------------------------------------------------------------------------


def sync_media(source: Path, target: Path, say: Say) -> tuple[int, int, int]:
    """Copy files missing in ``target`` (write-once: an existing name has the same bytes).

    Returns (copied, already there, bytes copied).
    """
    copied = present = size = 0
    if not source.is_dir():
        return 0, 0, 0
    last_report = time.monotonic()
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".upload-"):
            continue
        relative = path.relative_to(source)
        destination = target / relative
        if destination.exists():
            present += 1
            continue
        with no_space_is_clear(target, f"copying {relative}"):
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_name(f".{destination.name}.partial")
            shutil.copyfile(path, partial)
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())
            partial.chmod(0o444)
            os.replace(partial, destination)
        copied += 1
        size += destination.stat().st_size
        if time.monotonic() - last_report > 5:
            say(f"  media: {copied} files copied so far ({human_size(size)})")
            last_report = time.monotonic()
    return copied, present, size


def referenced_media(conn: psycopg.Connection) -> list[str]:
    """Every file name stored in a FileField/ImageField column of the app's tables."""
    from django.apps import apps
    from django.db import models

    names: list[str] = []
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                table, column = model._meta.db_table, model_field.column
                rows = conn.execute(
                    psycopg.sql.SQL("SELECT {} FROM {} WHERE {} <> ''").format(
                        psycopg.sql.Identifier(column),
                        psycopg.sql.Identifier(table),
                        psycopg.sql.Identifier(column),
                    )
                ).fetchall()
                names.extend(row[0] for row in rows)
    return sorted(set(names))


# --- taking a backup ------------------------------------------------------------------------


def _libpq_params() -> dict:
    """Connection parameters for PostgreSQL's own tools, from DATABASES["default"]."""
    db = settings.DATABASES["default"]
    params = {"host": db.get("HOST") or "", "port": str(db.get("PORT") or ""), "user": db.get("USER") or ""}
    params.update({k: str(v) for k, v in (db.get("OPTIONS") or {}).items() if k in LIBPQ_OPTIONS})
    return {k: v for k, v in params.items() if v}


def _tool_env() -> dict:
    env = dict(os.environ)
    if password := settings.DATABASES["default"].get("PASSWORD"):
        env["PGPASSWORD"] = password  # not on the command line, where ps would show it
    return env


def _query(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _server_facts() -> dict:
    version, version_num, in_recovery, now = _query(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int, "
        "pg_is_in_recovery(), now()"
    )
    (segment_size,) = _query("SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'")
    try:
        (system_identifier,) = _query("SELECT system_identifier::text FROM pg_control_system()")
    except DatabaseError:  # not granted to every role; the check is a safeguard only
        system_identifier = None
    (size,) = _query("SELECT sum(pg_database_size(oid))::bigint FROM pg_database")
    return {
        "version": version,
        "version_num": version_num,
        "in_recovery": in_recovery,
        "now": now,
        "wal_segment_size": int(segment_size),
        "system_identifier": system_identifier,
        "size": int(size or 0),
    }


def ensure_archiving(repo: Repository, *, restart: bool) -> None:
    """WAL archiving is on and reaches ``repo.wal``; restarts the embedded server if asked to."""
    say = repo.say
    embedded = runtime.uses_embedded_postgres()
    expected = runtime.wal_archive_dir() if embedded else None
    if embedded and expected != repo.wal:
        raise BackupError(
            f"The embedded database archives its WAL to {expected or 'nowhere'}, not to {repo.wal}: "
            f"set RFR_BACKUP_DIR={repo.root} for every process of the app (the same value as here), "
            "then run the backup again."
        )
    mode, library, command, directory = _query(
        "SELECT current_setting('archive_mode'), current_setting('archive_library'), "
        "current_setting('archive_command'), current_setting('basic_archive.archive_directory', true)"
    )
    active = mode in ("on", "always") and (library or command)
    if embedded and active and library == "basic_archive" and directory != str(repo.wal):
        _query("SELECT pg_reload_conf()")  # archive_library and its folder follow a reload
        time.sleep(0.5)
        (directory,) = _query("SELECT current_setting('basic_archive.archive_directory', true)")
    if embedded and (not active or directory != str(repo.wal)):
        if not restart:
            raise BackupError(
                "WAL archiving is configured in rfr.conf but not active yet: PostgreSQL turns "
                "archive_mode on only when it starts. Restart the embedded database once (the app "
                "waits a few seconds): `python manage.py backup --restart`, or "
                "`python manage.py embedded stop && python manage.py embedded start`."
            )
        say("Restarting the embedded PostgreSQL once to turn WAL archiving on ...")
        connection.close()
        runtime.stop_postgres()
        runtime.ensure_postgres()
        (mode,) = _query("SELECT current_setting('archive_mode')")
        if mode not in ("on", "always"):
            raise BackupError(
                "WAL archiving is still off after the restart; see rfr.conf in the data folder."
            )
    elif not active:
        raise BackupError(
            "WAL archiving is off on the database server (archive_mode/archive_command), so a restore "
            "could only return to the moment of a base backup. Configure it as in "
            f"deploy/postgres/ (archive into {repo.wal}), restart PostgreSQL, and run the backup again."
        )
    _prove_archiving(repo)


def _prove_archiving(repo: Repository) -> None:
    """Close the current WAL file and wait until the archive has it: archiving really works."""
    say = repo.say
    # A restore point first: pg_switch_wal() does nothing when only background records
    # were written since the last switch, and the file in use would never arrive.
    with contextlib.suppress(DatabaseError):  # needs a grant (deploy/postgres/roles.sql)
        _query("SELECT pg_create_restore_point(%s)", [f"rfr-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"])
    try:
        (name,) = _query("SELECT pg_walfile_name(pg_switch_wal())")
    except DatabaseError as exc:  # not granted, or a standby: trust the server's own archiver
        say(f"  (cannot switch WAL to test the archive: {exc}; relying on pg_stat_archiver)")
        return
    say(f"Checking WAL archiving: waiting for {name} to reach the archive ...")
    deadline = time.monotonic() + ARCHIVE_WAIT_SECONDS
    while True:
        last_archived, last_failed, failed_at, failures = _query(
            "SELECT last_archived_wal, last_failed_wal, last_failed_time, failed_count FROM pg_stat_archiver"
        )
        if (repo.wal / name).exists() or (
            not runtime.uses_embedded_postgres() and last_archived and last_archived >= name
        ):
            if not (repo.wal / name).exists():
                say(f"  note: the server archived {name}, but not into {repo.wal}; check archive_command.")
            return
        if last_failed and last_failed >= name:
            raise BackupError(
                f"PostgreSQL cannot archive its WAL: {last_failed} failed at {failed_at} "
                f"({failures} failures so far). Check that {repo.wal} exists, is writable by the database "
                "server and has space; the server log says more."
            )
        if time.monotonic() > deadline:
            raise BackupError(
                f"WAL file {name} did not reach the archive {repo.wal} within {ARCHIVE_WAIT_SECONDS} s; "
                "check archive_command / archive_library and the server log."
            )
        time.sleep(0.2)


def take_base_backup(repo: Repository, *, fmt: str = "tar") -> BaseBackup:
    """pg_basebackup (with manifest and its own WAL) into base/<label>/; returns it."""
    say = repo.say
    facts = _server_facts()
    repo.check_cluster(facts["system_identifier"], facts["version"])
    check_space(repo.base, int(facts["size"] * 1.1) + 2 * facts["wal_segment_size"], "the base backup")
    label = facts["now"].astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = 1
    while (repo.base / label).exists():
        suffix += 1
        label = f"{label.split('-')[0]}-{suffix}"
    partial = repo.base / f".{label}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    args = [
        runtime.postgres_bin("pg_basebackup"),
        "-d",
        psycopg.conninfo.make_conninfo(**_libpq_params()),
        "-D",
        partial,
        "-F",
        "t" if fmt == "tar" else "p",
        *(["-z"] if fmt == "tar" else []),
        "-X",
        "stream",
        "-c",
        "fast",
        "-l",
        f"raumfuerraum {label}",
        "-P",
        "-v",
    ]
    say(f"Base backup {label} ({fmt}) of {human_size(facts['size'])} into {repo.base} ...")
    connection.close()  # pg_basebackup may take long; no idle connection meanwhile
    code, output = _run_streaming(args, say, env=_tool_env())
    if code != 0:
        shutil.rmtree(partial, ignore_errors=True)
        if "No space left on device" in output:
            raise BackupError(f"No space left on the device of {repo.base}; the partial backup was removed.")
        raise BackupError(f"pg_basebackup failed (exit {code}); the partial backup was removed:\n{output}")
    (finished,) = _query("SELECT now()")
    manifest = json.loads((partial / "backup_manifest").read_text())
    wal_range = manifest["WAL-Ranges"][0]
    size = facts["wal_segment_size"]
    timeline = int(wal_range["Timeline"])
    meta = {
        "label": label,
        "format": fmt,
        "compression": "gzip" if fmt == "tar" else "none",
        "started_at": facts["now"].astimezone(UTC).isoformat(),
        "finished_at": finished.astimezone(UTC).isoformat(),
        "timeline": timeline,
        "start_lsn": wal_range["Start-LSN"],
        "end_lsn": wal_range["End-LSN"],
        "start_wal": wal_file_name(timeline, parse_lsn(wal_range["Start-LSN"]), size),
        "end_wal": wal_file_name(timeline, parse_lsn(wal_range["End-LSN"]), size),
        "wal_segment_size": size,
        "server_version": facts["version"],
        "server_version_num": facts["version_num"],
        "system_identifier": facts["system_identifier"],
        "size_bytes": sum(p.stat().st_size for p in partial.rglob("*") if p.is_file()),
        "from_standby": facts["in_recovery"],
    }
    (partial / "rfr-backup.json").write_text(json.dumps(meta, indent=2))
    partial.rename(repo.base / label)
    return BaseBackup(repo.base / label, meta)
