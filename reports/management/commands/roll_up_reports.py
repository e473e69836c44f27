from django.core.management.base import BaseCommand, CommandError

from reports import daily


class Command(BaseCommand):
    help = (
        "Store the reports' daily roll-up for the last DAYS finished days of every room "
        "(after an upgrade, or after changing opening hours of past days)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=800,
            help="how many days back (default 800: the trend shows a year before)",
        )

    def handle(self, *args, days: int = 800, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        written = daily.roll_up_recent(days=days)
        self.stdout.write(f"stored {written} room-days")
