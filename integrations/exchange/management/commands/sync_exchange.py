"""``manage.py sync_exchange [--room ID] [--full]``: sync now, a progress line per room."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bookings import outbox
from bookings.models import OutboxMessage

from ...adapter import calendar
from ...sync import sync_room
from ...tasks import rooms


class Command(BaseCommand):
    help = "Sync the rooms' Exchange calendars now; exits non-zero when a room could not be synced."

    def add_arguments(self, parser):
        parser.add_argument("--room", type=int, help="only this room (its id)")
        parser.add_argument("--full", action="store_true", help="read everything and reconcile the window")

    def handle(self, *args, room=None, full=False, **options):
        cal = calendar()
        if cal is None:
            raise CommandError("The Exchange sync is off: set RFR_EXCHANGE_BACKEND to ews or graph.")
        selected = list(rooms(room))
        if room is not None and not selected:
            raise CommandError(f"No room {room} with an Exchange mailbox.")
        # Our queued changes first, so the read sees them as our own.
        for pk in (
            OutboxMessage.objects.filter(
                channel="exchange", delivered_at__isnull=True, given_up_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            outbox.deliver(pk)
        failed = 0
        for number, one in enumerate(selected, 1):
            report = sync_room(cal, one, full=full)
            head = f"[{number}/{len(selected)}] {one.pk} {one} <{one.exchange_mailbox}>"
            if report.error:
                failed += 1
                self.stdout.write(f"{head}: FAILED: {report.error}")
            else:
                done = ", ".join(f"{what} {n}" for what, n in sorted(report.applied.items())) or "no changes"
                self.stdout.write(f"{head}: ok ({done})")
        if failed:
            raise CommandError(f"{failed} of {len(selected)} rooms could not be synced.")
