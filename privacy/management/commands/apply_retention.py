import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.retention import apply_retention


class Command(BaseCommand):
    help = "Apply the retention rules set in the admin (--dry-run only says what would be done)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        run = apply_retention(now=timezone.now(), dry_run=dry_run)
        verb = "would apply" if dry_run else "applied"
        if not run.done:
            self.stdout.write("no retention rule is switched on")
        for kind, done in run.done.items():
            self.stdout.write(f"{verb} {kind}: {json.dumps(done, sort_keys=True)}")
