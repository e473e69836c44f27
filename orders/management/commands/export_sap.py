"""manage.py export_sap [--dry-run]: write the next SAP export batch; the paths written are the last lines."""

from django.core.management.base import BaseCommand

from orders.export import export_batch
from orders.money import text


class Command(BaseCommand):
    help = "Write the next SAP export batch (CO/FI as CSV and XLSX); prints the path of each file written."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be exported; write nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        result = export_batch(dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"{result.lines} lines, total {text(result.total)} (dry run, nothing written)")
            return
        if result.batch is None:
            self.stderr.write("Nothing new to export.")
            return
        self.stderr.write(f"Batch {result.batch.number}: {result.lines} lines, total {text(result.total)}")
        for path in result.paths:
            self.stdout.write(str(path))
