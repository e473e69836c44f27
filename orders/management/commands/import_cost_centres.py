"""manage.py import_cost_centres FILE: the cost centre master list from CSV (all or nothing)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.masterdata import import_cost_centres


class Command(BaseCommand):
    help = "Create or update cost centres from a CSV file with the columns code, name, valid_from, valid_to."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            result = import_cost_centres(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{file}: {exc}; nothing was imported") from exc
        self.stdout.write(f"{result.created} cost centres created, {result.updated} updated.")
