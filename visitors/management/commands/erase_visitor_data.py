from django.core.management.base import BaseCommand
from django.utils import timezone

from visitors.retention import erase_visitor_data


class Command(BaseCommand):
    help = "Erase visitors' personal data past RFR_VISITOR_RETENTION_DAYS (--dry-run only counts)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would be erased, change nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        result = erase_visitor_data(now=timezone.now(), dry_run=dry_run)
        verb = "would erase" if dry_run else "erased"
        self.stdout.write(f"{verb} {result.visitors} visitors of {result.visits} visits")
