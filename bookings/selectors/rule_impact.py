"""Which existing bookings a rule change would break, before it is saved.

The booking's own rule check (rules.catalogue.verdict) runs against the changed policy,
which is written in a savepoint and rolled back: no second copy of the rules. Only the
rules an existing booking can come to break count; notice and advance are about the
moment one books, not about the booking.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from ..models import Booking, Policy, PolicyHours
from ..rules.catalogue import (
    BOOKERS,
    HOURS,
    MAX_BOOKINGS_PER_DAY,
    MAX_BOOKINGS_PER_WEEK,
    MAX_DURATION,
    MAX_HOURS_PER_DAY,
    MAX_HOURS_PER_WEEK,
    verdict,
)
from ..rules.resolve import Rules, rules_for

STANDING = {
    rule.name
    for rule in (
        BOOKERS,
        MAX_DURATION,
        HOURS,
        MAX_BOOKINGS_PER_DAY,
        MAX_HOURS_PER_DAY,
        MAX_BOOKINGS_PER_WEEK,
        MAX_HOURS_PER_WEEK,
    )
}
# Bookings looked at per preview: the soonest first.
CHECKED = 500


@dataclass
class Broken:
    booking: Booking
    reasons: list[str]


def broken_by(
    policy: Policy, *, m2m: dict, now: datetime, hours: list | None = None, checked: int = CHECKED
) -> list[Broken]:
    """The upcoming active bookings of the policy's place that ``policy`` as changed (not yet
    saved; ``m2m``: its groups by field name; ``hours``: its bookable hours as (weekday, opens,
    closes), None to keep the stored ones) would refuse, each with the rules' own words."""
    upcoming = list(
        Booking.objects.filter(policy.bookings_here(), status__in=Booking.ACTIVE, span__endswith__gt=now)
        .select_related("room__floor__building__site", "organizer")
        .order_by("span")[:checked]
    )
    if not upcoming:
        return []
    found: list[Broken] = []
    point = transaction.savepoint()
    try:
        probe = copy.copy(policy)
        probe._state = copy.copy(policy._state)  # the form's instance stays unsaved
        probe.save()
        for name, groups in m2m.items():
            getattr(probe, name).set(groups)
        if hours is not None:
            PolicyHours.objects.filter(policy=probe).delete()
            PolicyHours.objects.bulk_create(
                PolicyHours(policy=probe, weekday=day, opens=opens, closes=closes)
                for day, opens, closes in hours
            )
        rules: dict[int, Rules] = {}
        for booking in upcoming:
            if booking.room_id not in rules:
                rules[booking.room_id] = rules_for(booking.room)
            reasons, _overridden = verdict(
                user=booking.organizer,
                rules=rules[booking.room_id],
                start=booking.start,
                end=booking.end,
                now=now,
                exclude=(booking.pk,),
                organizer_id=booking.organizer_id,
            )
            standing = [r.message for r in reasons if r.rule in STANDING]
            if standing:
                found.append(Broken(booking, standing))
    finally:
        transaction.savepoint_rollback(point)
    return found
