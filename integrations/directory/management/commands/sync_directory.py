"""Mirror the company directory now: ``python manage.py sync_directory [--full] [--force]``."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.base import IntegrationError
from integrations.directory.sync import SyncBusy, sync_directory


class Command(BaseCommand):
    help = (
        "Create and update users from the directory (RFR_LDAP_*), refresh their roles and "
        "deactivate those who left. Incremental unless --full or a full run is due."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Read every person, not only changes.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Deactivate leavers even when that is more than half of all accounts.",
        )

    def handle(self, *args, full: bool, force: bool, **options):
        conf = getattr(settings, "RFR_LDAP", None)
        if conf is None:
            raise CommandError("The directory is off: set RFR_LDAP_SERVER_URI (see README).")
        from integrations.directory.adapter import LdapDirectory  # needs the [ldap] extra

        directory = LdapDirectory(conf)
        try:
            result = sync_directory(
                directory=directory, conf=conf, full=full, force=force, progress=self.stdout.write
            )
        except SyncBusy as exc:
            raise CommandError(str(exc)) from None
        except IntegrationError as exc:
            raise CommandError(f"directory sync failed: {exc}") from None
        finally:
            directory.client.close()
        for name in result.conflict_names:
            self.stderr.write(f"not synchronized: the local account {name!r} holds this directory name")
