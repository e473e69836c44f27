"""Demo data for one meeting in several rooms (idempotent): a workshop with break-out rooms in
Haus A, and a video meeting between Berlin and New York, each at its own local time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from .errors import BookingError
from .models import Building, Meeting
from .selectors.meetings import rooms_for_meeting
from .services.meetings import create_meeting

WORKSHOP = "Strategie-Workshop mit Gruppenräumen"
VIDEO_CALL = "Videokonferenz Berlin – New York"


def _next_weekday(tz) -> datetime:
    day = timezone.now().astimezone(tz).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tz)


def seed_meetings(organizer) -> list[Meeting]:
    """The two meetings, booked through the service; those already there, or not bookable, are left."""
    made = []
    haus_a = Building.objects.filter(name="Haus A").select_related("site").first()
    hudson = Building.objects.filter(name="Hudson Yards").select_related("site").first()
    if haus_a is None:
        return made
    day = _next_weekday(haus_a.site.tz)
    plans = [(WORKSHOP, [haus_a], 3, 8, day + timedelta(hours=13), timedelta(hours=2))]
    if hudson is not None:
        # 16:00 in Berlin is 10:00 in New York: one room at each site.
        plans.append((VIDEO_CALL, [haus_a, hudson], 1, 6, day + timedelta(hours=16), timedelta(hours=1)))
    for title, buildings, per_building, people, start, length in plans:
        if Meeting.objects.filter(title=title, organizer=organizer, cancelled_at__isnull=True).exists():
            continue
        rooms = []
        for building in buildings:
            found = rooms_for_meeting(
                start=start,
                end=start + length,
                count=max(per_building, 2),
                site_id=building.site_id,
                building_id=building.pk,
                people=people,
                viewer=organizer,
            )
            rooms += found.rooms[:per_building]
        try:
            made.append(
                create_meeting(
                    rooms=rooms,
                    organizer=organizer,
                    title=title,
                    start=start,
                    end=start + length,
                    approval=Meeting.Approval.GO_AHEAD,
                )
            )
        except BookingError:
            continue  # taken or refused by a rule meanwhile: the demo shows the other one
    return made
