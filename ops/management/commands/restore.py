"""`manage.py restore --to TIME --target DIR`: point-in-time recovery into a new folder."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, Repository, fmt_time
from ops.recovery import parse_target, restore, restore_media, usage_hint


class Command(BaseCommand):
    help = (
        "Restore the database as it was at a point in time (base backup + WAL archive) into a new "
        "folder laid out like RFR_DATA_DIR, start it there, and copy the media files beside it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            required=True,
            help="ISO 8601 time, e.g. '2026-11-24 14:30:00+01:00' (no offset: RFR_TIME_ZONE), or 'latest'",
        )
        parser.add_argument("--target", required=True, type=Path, help="new, empty folder for the restore")
        parser.add_argument("--repo", help="backup folder (default: RFR_BACKUP_DIR)")
        parser.add_argument(
            "--backup", dest="label", help="use this base backup (default: the newest that fits)"
        )
        parser.add_argument("--port", type=int, help="also listen on 127.0.0.1:PORT (default: socket only)")
        parser.add_argument("--pg-bin", type=Path, help="PostgreSQL binaries of the backup's major version")
        parser.add_argument(
            "--allow-gap", action="store_true", help="with --to latest: stop at a gap in the archive"
        )

    def handle(self, *args, to, target, repo, label, port, pg_bin, allow_gap, **options):
        def say(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            repository = Repository.configured(repo, say)
            moment = parse_target(to)
            server, backup = restore(
                repository,
                target=moment,
                root=target.resolve(),
                port=port,
                pg_bin=pg_bin,
                label=label,
                allow_gap=allow_gap,
            )
            referenced, missing = restore_media(repository, server)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if missing:
            raise CommandError(
                f"The database is restored and running, but {len(missing)} of {referenced} media files it "
                f"refers to are not in the media backup {repository.media}: {', '.join(missing[:20])}\n"
                + usage_hint(server)
            )
        goal = fmt_time(moment) if moment else "the end of the WAL archive"
        say(
            self.style.SUCCESS(
                f"Restored to {goal} from base backup {backup.label}; all {referenced} referenced "
                "media files are there."
            )
        )
        say(usage_hint(server))
