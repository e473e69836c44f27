"""Demo data for the reports: six past weeks of bookings with check-ins, no-shows and late
cancellations, so `make demo` shows meaningful utilisation. Idempotent."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking, BookingEvent, Room
from bookings.spans import make_span

from . import daily

MARK = "Rückblick"  # the titles start with it, so a second run finds the first one's bookings
# The sales team's Monday round invites its distribution list, which the directory's demo
# stores with its member count (integrations/directory/demo.py): right-sizing counts them.
TEAM_LIST = "vertrieb-alle@example.com"
TEAM_ROUND_SEATS = 12  # only rooms this big hold it


def seed_past_weeks(weeks: int = 6) -> int:
    if Booking.objects.filter(title__startswith=MARK).exists():
        return 0
    rng = random.Random(18)  # noqa: S311 (demo data, not secrets)
    users = list(get_user_model().objects.filter(is_active=True, display__isnull=True)[:20])
    demo = get_user_model().objects.filter(username="demo").first()
    permission = Permission.objects.filter(content_type__app_label="reports", codename="view_reports").first()
    if demo is not None and permission is not None:
        demo.user_permissions.add(permission)
    now = timezone.now()
    created = 0
    for room in Room.objects.filter(bookable=True).select_related("floor__building__site"):
        tz = room.floor.building.site.tz
        today = now.astimezone(tz).date()
        busy = rng.choice([0.15, 0.3, 0.5, 0.7])  # some rooms are wanted, some are not
        for back in range(1, weeks * 7 + 1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5:
                continue
            for hour in range(8, 18):
                if rng.random() > busy:
                    continue
                start = datetime.combine(day, time(hour), tz)
                roll = rng.random()
                status = Booking.Status.CONFIRMED
                extra: dict = {"checked_in_at": start + timedelta(minutes=3)}
                if roll < 0.12:
                    status, extra = Booking.Status.RELEASED, {}
                elif roll < 0.18:
                    late = rng.random() < 0.5
                    status = Booking.Status.CANCELLED
                    extra = {"cancelled_at": start - (timedelta(minutes=20) if late else timedelta(days=2))}
                size = max(1, min(room.capacity, int(rng.triangular(1, room.capacity, 3))))
                attendees = [f"gast{n}@example.com" for n in range(size - 1)]
                if day.weekday() == 0 and hour == 10 and room.capacity >= TEAM_ROUND_SEATS:
                    attendees = [TEAM_LIST]
                booking = Booking(
                    room=room,
                    organizer=rng.choice(users),
                    title=f"{MARK}: Besprechung",
                    span=make_span(
                        start, start + timedelta(minutes=15 if status == Booking.Status.RELEASED else 60)
                    ),
                    status=status,
                    attendees=attendees,
                    source=Booking.Source.IMPORT,
                    **extra,
                )
                try:
                    with transaction.atomic():
                        booking.save()
                except IntegrityError:
                    continue  # booked already through the app
                if status == Booking.Status.RELEASED:
                    end = start + timedelta(hours=1)
                    BookingEvent.objects.create(
                        booking=booking,
                        kind=BookingEvent.Kind.RELEASED,
                        at=start + timedelta(minutes=15),
                        changes={"end": [end.isoformat(), booking.span.upper.isoformat()]},
                    )
                created += 1
    # Stored as beat would store them overnight, so the demo's reports read the roll-up.
    daily.roll_up_recent(days=weeks * 7 + 1, now=now)
    return created
