"""manage.py import_sap_return FILE: SAP's document numbers, stored on the exported postings."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.masterdata import read_return_file


class Command(BaseCommand):
    help = "Read a SAP return file (CSV with the columns reference and sap_document) into the postings."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            stored = read_return_file(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from exc
        self.stdout.write(f"{stored} postings got their SAP document number.")
