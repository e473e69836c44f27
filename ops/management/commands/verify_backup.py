"""`manage.py verify_backup`: prove that a backup restores (pg_verifybackup + a trial restore)."""

import shutil
import subprocess
from pathlib import Path

import psycopg
from django.core.management.base import BaseCommand, CommandError

from ops import runtime
from ops.backup import BackupError, Repository, fmt_time, referenced_media
from ops.recovery import RestoredServer, restore


class Command(BaseCommand):
    help = (
        "Check a base backup against its manifest (pg_verifybackup, with its WAL from the archive), "
        "then restore it with the whole WAL archive into a scratch folder, read every table, check "
        "the media files, and remove the scratch folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repo", help="backup folder (default: RFR_BACKUP_DIR)")
        parser.add_argument("--backup", dest="label", help="the base backup to check (default: the newest)")
        parser.add_argument(
            "--scratch", type=Path, help="folder for the trial restore (default: in the repository)"
        )
        parser.add_argument("--keep", action="store_true", help="keep the trial restore running")
        parser.add_argument("--pg-bin", type=Path, help="PostgreSQL binaries of the backup's major version")

    def handle(self, *args, repo, label, scratch, keep, pg_bin, **options):
        def say(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            repository = Repository.configured(repo, say)
            backup = repository.backup_named(label)
            bin_dir = pg_bin or runtime.postgres_bin("pg_verifybackup").parent
            # A tar backup's WAL is checked by the trial restore below, which replays it.
            say(f"1/3 pg_verifybackup {backup.label} (checksum of every file against the manifest) ...")
            result = subprocess.run(
                [
                    str(bin_dir / "pg_verifybackup"),
                    "-F",
                    *(["t", "--no-parse-wal"] if backup.meta["format"] == "tar" else ["p"]),
                    "-i",
                    "rfr-backup.json",
                    str(backup.path),
                ],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(
                    f"pg_verifybackup found problems in {backup.path}:\n{result.stderr or result.stdout}"
                )
            say(f"  {result.stdout.strip() or 'backup successfully verified'}")
            say("2/3 WAL archive: looking for gaps ...")
            chain = repository.wal_chain(backup)
            if chain.missing:
                raise BackupError(
                    f"Missing WAL: {chain.missing} is not in the archive {repository.wal}; a restore "
                    f"could not get past {fmt_time(chain.reaches)}."
                )
            say(
                f"  {chain.segments} WAL files from the backup on, no gap; "
                f"they reach {fmt_time(chain.reaches)}."
            )
            root = (scratch or repository.root / f".verify-{backup.label}").resolve()
            say(f"3/3 trial restore into {root} ...")
            try:
                server, _backup = restore(
                    repository, target=None, root=root, pg_bin=pg_bin, label=backup.label
                )
                tables, rows, bookings, names = self._read_everything(server)
                missing = [n for n in names if not (repository.media / n).is_file()]
            finally:
                if not keep:
                    RestoredServer(root=root).stop()
                    shutil.rmtree(root, ignore_errors=True)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if missing:
            raise CommandError(
                f"{len(missing)} media files the database refers to are not in {repository.media}: "
                + ", ".join(missing[:20])
            )
        say(
            self.style.SUCCESS(
                f"Backup {backup.label} restores: {tables} tables, {rows} rows read ({bookings} bookings), "
                f"all {len(names)} referenced media files present."
            )
        )
        if keep:
            say(f"The trial restore keeps running in {root}.")

    @staticmethod
    def _read_everything(server: RestoredServer) -> tuple[int, int, int, list[str]]:
        """Read every table of the app's database (a damaged page fails here) and list its media."""
        with server.connect() as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                ).fetchall()
            ]
            rows = 0
            for table in tables:
                query = psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
                rows += conn.execute(query).fetchone()[0]
            bookings = 0
            if "bookings_booking" in tables:
                bookings = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]
            return len(tables), rows, bookings, referenced_media(conn)
