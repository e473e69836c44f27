"""Keep EWS streaming notifications open for the rooms (integrations/exchange/listen.py)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ...listen import RETRY_SECONDS, start
from ...tasks import rooms


class Command(BaseCommand):
    help = (
        "EWS only: a streaming subscription on each room's calendar, so an Outlook meeting is "
        "synced within seconds instead of at the next poll. Runs until stopped (Ctrl-C, SIGTERM)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--room", type=int, help="only this room (its id)")
        parser.add_argument(
            "--minutes", type=int, default=30, help="connection timeout asked of Exchange (1-30)"
        )
        parser.add_argument("--retry", type=float, default=RETRY_SECONDS, help="seconds to wait after a loss")

    def handle(self, *args, **options):
        conf = getattr(settings, "RFR_EXCHANGE", None)
        if conf is None or conf.backend != "ews":
            raise CommandError("listen_exchange needs RFR_EXCHANGE_BACKEND=ews")
        if not 1 <= options["minutes"] <= 30:
            raise CommandError("--minutes must be between 1 and 30")
        stop = threading.Event()
        threads = start(
            [room.pk for room in rooms(options["room"])],
            stop=stop,
            minutes=options["minutes"],
            retry=options["retry"],
        )
        self.stdout.write(f"listening to {len(threads)} room calendars")
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(1.0)
        except KeyboardInterrupt:
            stop.set()
