"""``manage.py import_exchange_rooms [--floor ID] [--apply]``: rooms from Exchange, by mailbox address.

Without ``--apply`` it only shows what it would do (a line per room). New rooms need
``--floor``; known rooms (matched by mailbox) take Exchange's name and capacity.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bookings.models import Floor

from ....base import IntegrationError
from ...adapter import calendar
from ...rooms import apply as apply_plan
from ...rooms import describe, plan


class Command(BaseCommand):
    help = "Import the room mailboxes of Exchange as rooms (a preview unless --apply)."

    def add_arguments(self, parser):
        parser.add_argument("--floor", type=int, help="the floor (its id) new rooms are created on")
        parser.add_argument("--apply", action="store_true", help="write; without it, only show the plan")

    def handle(self, *args, floor=None, apply=False, **options):
        cal = calendar()
        if cal is None:
            raise CommandError("The Exchange sync is off: set RFR_EXCHANGE_BACKEND to ews or graph.")
        where = None
        if floor is not None:
            where = Floor.objects.filter(pk=floor).first()
            if where is None:
                raise CommandError(f"No floor {floor}.")
        try:
            remote = cal.rooms()
        except IntegrationError as exc:
            raise CommandError(f"Exchange did not list its rooms: {exc}") from exc
        steps = (apply_plan if apply else plan)(remote, floor=where)
        for step in steps:
            self.stdout.write(describe(step))
        counts = {
            a: sum(1 for s in steps if s.action == a) for a in ("create", "update", "unchanged", "skip")
        }
        summary = ", ".join(f"{what} {n}" for what, n in counts.items())
        self.stdout.write(("written: " if apply else "preview (nothing written; --apply writes): ") + summary)
