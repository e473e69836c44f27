"""`manage.py backup`: base backup + proof that WAL archiving works + new media files."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops.backup import (
    BackupError,
    Repository,
    ensure_archiving,
    fmt_time,
    human_size,
    sync_media,
    take_base_backup,
)


class Command(BaseCommand):
    help = (
        "Back up into RFR_BACKUP_DIR: a base backup (pg_basebackup with manifest), a check that the "
        "WAL archive receives the WAL, and the media files not yet copied."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repo", help="backup folder (default: RFR_BACKUP_DIR)")
        parser.add_argument(
            "--format", choices=["tar", "plain"], default="tar", help="tar (gzip, default) or plain"
        )
        parser.add_argument(
            "--media-only",
            action="store_true",
            help="only copy new media files (cheap: run it every few minutes)",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="restart the embedded PostgreSQL once if that is needed to turn WAL archiving on",
        )

    def handle(self, *args, repo, format, media_only, restart, **options):
        def say(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            repository = Repository.configured(repo, say)
            repository.prepare()
            backup = None
            if not media_only:
                ensure_archiving(repository, restart=restart)
                backup = take_base_backup(repository, fmt=format)
            # After the base backup: every file the backed-up database refers to is older.
            say(f"Copying new media files from {settings.MEDIA_ROOT} ...")
            copied, present, size = sync_media(Path(settings.MEDIA_ROOT), repository.media, say)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        say(f"  media: {copied} new files ({human_size(size)}), {present} already backed up.")
        if backup is not None:
            say(
                self.style.SUCCESS(
                    f"Backup {backup.label} done ({human_size(backup.meta['size_bytes'])}) "
                    f"in {repository.root}. Restorable to any time from {fmt_time(backup.finished_at)} "
                    "on, as far as the WAL archive reaches."
                )
            )
        else:
            say(self.style.SUCCESS(f"Media backed up in {repository.media}."))
