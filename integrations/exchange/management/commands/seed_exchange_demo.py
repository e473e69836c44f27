"""Demo rooms with an Exchange mailbox (called by seed_demo by name)."""

from django.core.management.base import BaseCommand

from ...demo import seed_exchange_demo


class Command(BaseCommand):
    help = "Give two demo rooms an Exchange mailbox and a sync mode (safe to run again)."

    def handle(self, *args, **options):
        seed_exchange_demo()
