"""Editing a series: all its upcoming dates, or one date and the following; a booking becomes a series.

"This occurrence" is ``update_booking``: it marks the occurrence as an exception, and
an exception keeps its own time and room when the series is edited later (title,
private flag and attendees still follow the series).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import hooks, recurrence
from ..errors import BookingConflict, InvalidBooking, NotAllowed, StaleBooking
from ..models import Booking, BookingEvent, Room, Series
from ..outbox import enqueue
from ..rules.resolve import Rules, rules_for
from ..spans import ends_after, lasts, make_span, on_the_clock, validate_times
from . import audit
from .bookings import (
    can_manage,
    check_bookable,
    clean_attendees,
    clean_title,
    overridden_note,
    save_or_conflict,
)
from .series import SeriesResult, _busy_by_occurrence, _unique, create_series, enforce_each

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SCOPES = ("all", "following")


@dataclass
class SeriesEdit:
    """The series edited (the new one after a split), the occurrences changed, and the old part."""

    series: Series
    updated: list[Booking] = field(default_factory=list)
    # After "this and following" on a later date: the series that keeps the earlier dates.
    split_from: Series | None = None


@dataclass
class _Plan:
    """One upcoming occurrence and what the edit makes of it."""

    booking: Booking
    span: DateTimeTZRange
    room: Room
    changes: dict

    @property
    def moves(self) -> bool:
        return "span" in self.changes or "room" in self.changes


def _may_edit(actor: User, series: Series) -> bool:
    """The organizer, the delegate who booked the series for them, and facility admins."""
    if series.booked_by_id is not None and series.booked_by_id == actor.pk:
        return True
    return series.organizer_id == actor.pk or actor.has_perm("bookings.change_booking")


def _rule_parts(rule: str) -> list[tuple[str, str]]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return [(n.strip().upper(), v.strip()) for n, _sep, v in (p.partition("=") for p in text.split(";") if p)]


def _with_end(rule: str, *, until: datetime | None = None, count: int | None = None) -> str:
    """The rule with its end replaced: UNTIL (an aware time, written in UTC) or COUNT."""
    parts = [(n, v) for n, v in _rule_parts(rule) if n not in ("UNTIL", "COUNT")]
    if until is not None:
        parts.append(("UNTIL", until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")))
    else:
        parts.append(("COUNT", str(count)))
    return ";".join(f"{n}={v}" for n, v in parts)


def _count(rule: str) -> int | None:
    value = dict(_rule_parts(rule)).get("COUNT")
    return int(value) if value else None


def _clean_times(start_time: time | None, end_time: time | None) -> None:
    for name, value in (("start_time", start_time), ("end_time", end_time)):
        if value is not None and (not isinstance(value, time) or value.tzinfo is not None):
            raise InvalidBooking(_("Give the time as a local wall-clock time like 09:30."), field=name)
    if start_time is not None and end_time is not None and end_time <= start_time and end_time != time(0):
        raise InvalidBooking(_("The end must be after the start."), field="end_time")


def _new_span(
    booking: Booking, tz: zoneinfo.ZoneInfo, start_time: time | None, end_time: time | None
) -> DateTimeTZRange:
    """The occurrence at the new wall-clock times on its own local day (09:00 stays 09:00)."""
    local_start = booking.span.lower.astimezone(tz)
    start = local_start
    if start_time is not None:
        start = on_the_clock(datetime.combine(local_start.date(), start_time), tz)
    if end_time is None:
        return make_span(start, ends_after(start, lasts(booking.span.lower, booking.span.upper)))
    day = start.date() + timedelta(days=1) if end_time == time(0) else start.date()
    end = on_the_clock(datetime.combine(day, end_time), tz)
    if lasts(start, end) <= timedelta(0):
        raise InvalidBooking(_("The end must be after the start."), field="end_time")
    return make_span(start, end)


def _plan(
    booking: Booking,
    *,
    tz: zoneinfo.ZoneInfo,
    title: str | None,
    start_time: time | None,
    end_time: time | None,
    room: Room | None,
    private: bool | None,
    attendees: list[str] | None,
) -> _Plan:
    changes: dict = {}
    span, new_room = booking.span, booking.room
    if not booking.series_exception:
        # An occurrence edited on its own keeps its time and room.
        if start_time is not None or end_time is not None:
            span = _new_span(booking, tz, start_time, end_time)
        if span != booking.span:
            changes["span"] = [
                [booking.span.lower.isoformat(), booking.span.upper.isoformat()],
                [span.lower.isoformat(), span.upper.isoformat()],
            ]
        if room is not None and room.pk != booking.room_id:
            changes["room"] = [booking.room_id, room.pk]
            new_room = room
    if title is not None and title != booking.title:
        changes["title"] = [booking.title, title]
    if private is not None and private != booking.private:
        changes["private"] = [booking.private, private]
    if attendees is not None and attendees != booking.attendees:
        changes["attendees"] = [booking.attendees, attendees]
    return _Plan(booking=booking, span=span, room=new_room, changes=changes)


def _refuse_conflicts(plans: list[_Plan], rules: Rules, *, now: datetime) -> None:
    """BookingConflict listing every moved occurrence whose new time is taken (buffers counted).

    The series' own moving occurrences are not in their way at their old times, but are at their new ones.
    """
    moving = {p.booking.pk for p in plans}
    spans = [p.span for p in plans]
    busy = [
        [b for b in taken if b.pk not in moving]
        for taken in _busy_by_occurrence(plans[0].room.pk, spans, rules, now=now)
    ]
    before, after = rules.buffer_before, rules.buffer_after
    for i, plan in enumerate(plans):
        wide = (plan.span.lower - before, plan.span.upper + after)
        for other in plans:
            if (
                other is not plan
                and other.span.lower - before < wide[1]
                and wide[0] < other.span.upper + after
            ):
                busy[i].append(other.booking)
    refused = [(p.span.lower, p.span.upper, b) for p, b in zip(plans, busy, strict=True) if b]
    if refused:
        raise BookingConflict(
            ngettext(
                "At the new time %(n)d occurrence of the series is already booked.",
                "At the new time %(n)d occurrences of the series are already booked.",
                len(refused),
            )
            % {"n": len(refused)},
            conflicts=_unique(b for _s, _e, bs in refused for b in bs),
            occurrences=refused,
        )


def _split(series: Series, boundary: datetime, tz: zoneinfo.ZoneInfo) -> Series:
    """End the series before ``boundary``'s local day; a new series with the same rule holds the rest."""
    origin = series.local_start.astimezone(tz)
    slots = recurrence.occurrences(series.rrule, local_start=origin, tz=tz)
    day = boundary.date()
    kept = [s for s in slots if s.date() < day]
    rest = [s for s in slots if s.date() >= day]
    if not kept or not rest:
        raise InvalidBooking(_("This date does not belong to the rule of the series."), field="from_booking")
    count = _count(series.rrule)
    old_rule = _with_end(series.rrule, until=kept[-1])
    new_rule = series.rrule if count is None else _with_end(series.rrule, count=count - len(kept))
    # Rewritten rules must mean the same dates as before, split in two.
    if (
        recurrence.occurrences(old_rule, local_start=origin, tz=tz) != kept
        or recurrence.occurrences(new_rule, local_start=rest[0], tz=tz) != rest
    ):
        raise InvalidBooking(_("This series cannot be split at this date."), field="from_booking")
    new = Series.objects.create(
        room=series.room,
        title=series.title,
        organizer=series.organizer,
        booked_by=series.booked_by,
        rrule=new_rule,
        local_start=rest[0],
        duration=series.duration,
        time_zone=series.time_zone,
        private=series.private,
        attendees=series.attendees,
    )
    series.rrule = old_rule
    series.save(update_fields=["rrule"])
    # Every later row goes along, cancelled ones too: each series keeps its own history.
    Booking.objects.filter(series=series, span__startswith__gte=boundary).update(series=new)
    return new


@transaction.atomic
def update_series(
    *,
    series: Series,
    actor: User,
    scope: str,
    from_booking: Booking | None = None,
    title: str | None = None,
    start_time: time | None = None,
    end_time: time | None = None,
    room: Room | None = None,
    private: bool | None = None,
    attendees: list[str] | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> SeriesEdit:
    """Change every upcoming occurrence ("all") or ``from_booking`` and the later ones ("following").

    Times are local wall-clock times applied on each occurrence's day; exceptions keep their
    own time and room. Raises NotAllowed, InvalidBooking, StaleBooking (``expected_version``
    is ``from_booking``'s), PolicyViolation or BookingConflict, and then writes nothing.
    """
    now = now or timezone.now()
    series = (
        Series.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site")
        .get(pk=series.pk)
    )
    if not _may_edit(actor, series):
        raise NotAllowed(_("Only the organizer can change this series."))
    if scope not in SCOPES:
        raise InvalidBooking(_("The scope must be “all” or “following”."), field="scope")
    if series.cancelled_at is not None:
        raise InvalidBooking(_("A cancelled series cannot be changed."), field="series")
    if from_booking is not None:
        from_booking = Booking.objects.filter(pk=from_booking.pk, series=series).first()
        if from_booking is None:
            raise InvalidBooking(_("This booking is not a date of the series."), field="from_booking")
        if expected_version is not None and expected_version != from_booking.version:
            raise StaleBooking(_("The booking was changed in the meantime; please reload it."))
    elif scope == "following":
        raise InvalidBooking(_("Name the first date to change."), field="from_booking")
    first = from_booking if scope == "following" else None
    if first is not None and (not first.is_active or first.span.lower <= now):
        raise InvalidBooking(
            _("Only a date that has not started yet can be changed with the following ones."),
            field="from_booking",
        )
    title = clean_title(title) if title is not None else None
    attendees = clean_attendees(attendees) if attendees is not None else None
    _clean_times(start_time, end_time)
    if room is not None and room.pk != series.room_id:
        check_bookable(room)
    tz = series.room.floor.building.site.tz

    # "Following" splits at the local day of the chosen date: the rule's dates are days.
    boundary = None
    if first is not None:
        boundary = datetime.combine(first.span.lower.astimezone(tz).date(), time(0), tzinfo=tz)
    candidates = Booking.objects.select_for_update(of=("self",)).filter(
        series=series, status__in=Booking.ACTIVE, span__startswith__gt=now
    )
    if boundary is not None:
        candidates = candidates.filter(span__startswith__gte=boundary)
    targets = list(candidates.select_related("room__floor__building__site", "organizer").order_by("span"))
    if not targets:
        raise InvalidBooking(_("The series has no upcoming dates to change."), field="series")
    plans = [
        _plan(
            b,
            tz=tz,
            title=title,
            start_time=start_time,
            end_time=end_time,
            room=room,
            private=private,
            attendees=attendees,
        )
        for b in targets
    ]
    result = SeriesEdit(series=series)
    if not any(p.changes for p in plans):
        return result
    moved = [p for p in plans if p.moves]
    for p in moved:
        validate_times(p.span.lower, p.span.upper, now=now)
    rules = None
    if moved:
        rules = rules_for(moved[0].room)
        overridden = enforce_each(
            rules,
            user=actor,
            organizer_id=series.organizer_id,
            spans=[p.span for p in moved],
            now=now,
            exclude=[p.booking.pk for p in moved],
        )
        for p in moved:
            p.changes.update(overridden_note(overridden))
        _refuse_conflicts(moved, rules, now=now)

    if boundary is not None and Booking.objects.filter(series=series, span__startswith__lt=boundary).exists():
        result.split_from = series
        result.series = _split(series, boundary, tz)
        for p in plans:
            p.changes["series"] = [series.pk, result.series.pk]
    _apply_to_series(
        result.series,
        tz,
        title=title,
        start_time=start_time,
        end_time=end_time,
        room=room,
        private=private,
        attendees=attendees,
    )
    # Park the moving rows outside the constraints first: moving a daily series by less
    # than its length must not collide with its own next date halfway through. Nobody
    # else sees the parked state; the constraints check each row again as it is saved.
    Booking.objects.filter(pk__in=[p.booking.pk for p in moved]).update(status=Booking.Status.CANCELLED)
    for p in plans:
        if p.changes:
            _save(p, series=result.series, rules=rules, actor=actor, now=now)
            result.updated.append(p.booking)
    payload = {
        "series": result.series.pk,
        "room": result.series.room_id,
        "bookings": [audit.booking_payload(b) for b in result.updated],
    }
    # Attendees taken off invited dates get a CANCEL for each (notifications.invitations).
    uninvited = {
        str(p.booking.pk): [a for a in p.changes["attendees"][0] if a not in p.changes["attendees"][1]]
        for p in plans
        if "attendees" in p.changes and p.booking.invite_attendees
    }
    if any(uninvited.values()):
        payload["uninvited"] = {pk: gone for pk, gone in uninvited.items() if gone}
    enqueue(topic="series.updated", payload=payload)
    return result


def _save(plan: _Plan, *, series: Series, rules: Rules | None, actor: User, now: datetime) -> None:
    """Write one planned occurrence (its status as it was before parking) and log it."""
    booking, changes = plan.booking, plan.changes
    old_start = booking.span.lower
    booking.series = series
    booking.span, booking.room = plan.span, plan.room
    for name in ("title", "private", "attendees"):
        if name in changes:
            setattr(booking, name, changes[name][1])
    if plan.moves:
        # update_series reads the rules whenever an occurrence moves.
        assert rules is not None
        booking.buffer_before, booking.buffer_after = rules.buffer_before, rules.buffer_after
        if rules.requires_check_in and booking.checked_in_at is None:
            booking.check_in_deadline = plan.span.lower + rules.check_in_grace
        elif not rules.requires_check_in:
            booking.check_in_deadline = None
    booking.version += 1
    save_or_conflict(booking, now=now)
    if plan.moves:
        # Orders move with each date or refuse the edit, in this transaction (bookings/hooks.py).
        hooks.booking_moved(booking=booking, actor=actor, now=now, old_start=old_start)
    audit.record(
        booking, kind=BookingEvent.Kind.UPDATED, actor=actor, at=now, changes=changes, announce=False
    )


def _apply_to_series(
    series: Series,
    tz: zoneinfo.ZoneInfo,
    *,
    title: str | None,
    start_time: time | None,
    end_time: time | None,
    room: Room | None,
    private: bool | None,
    attendees: list[str] | None,
) -> None:
    """The series row describes its dates from now on: the rule's times, room, title."""
    if title is not None:
        series.title = title
    if private is not None:
        series.private = private
    if attendees is not None:
        series.attendees = attendees
    if room is not None:
        series.room = room
    if start_time is not None or end_time is not None:
        local_start = series.local_start.astimezone(tz)
        start = datetime.combine(local_start.date(), start_time or local_start.time(), tzinfo=tz)
        if end_time is not None:
            end = datetime.combine(local_start.date(), end_time, tzinfo=tz)
            series.duration = end - start if end > start else end + timedelta(days=1) - start
        series.local_start = start
    series.save()


@transaction.atomic
def convert_to_series(
    *, booking: Booking, actor: User, rrule: str, skip_conflicts: bool = False, now: datetime | None = None
) -> SeriesResult:
    """Make a single booking the first date of a new series and book the rule's later dates.

    Raises NotAllowed, InvalidBooking (a bad rule, a booking already in a series or past),
    PolicyViolation or BookingConflict (all or nothing unless skip_conflicts); writes nothing then.
    """
    now = now or timezone.now()
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "organizer")
        .get(pk=booking.pk)
    )
    if not can_manage(actor, booking):
        raise NotAllowed(_("Only the organizer can change this booking."))
    if booking.series_id is not None:
        raise InvalidBooking(_("This booking already belongs to a series."), field="series")
    if not booking.is_active or booking.span.lower <= now:
        raise InvalidBooking(_("Only an upcoming booking can become a series."), field="status")
    tz = booking.room.floor.building.site.tz
    local_start = booking.span.lower.astimezone(tz)
    starts = recurrence.occurrences(rrule, local_start=local_start, tz=tz)
    if starts[0] != booking.span.lower:
        raise InvalidBooking(
            _("The rule must include the booking's own date as its first date."), field="rrule"
        )
    if len(starts) < 2:
        raise InvalidBooking(_("The rule yields no further dates."), field="rrule")
    count = _count(rrule)
    # The later dates are a series of their own at first; the rule then gets its first date back.
    tail = rrule.strip() if count is None else _with_end(rrule, count=count - 1)
    if recurrence.occurrences(tail, local_start=starts[1], tz=tz) != starts[1:]:
        raise InvalidBooking(_("This rule cannot start with this booking."), field="rrule")
    duration = lasts(booking.span.lower, booking.span.upper)
    result = create_series(
        room=booking.room,
        organizer=booking.organizer,
        title=booking.title,
        start=starts[1],
        end=ends_after(starts[1], duration),
        rrule=tail,
        skip_conflicts=skip_conflicts,
        private=booking.private,
        attendees=booking.attendees,
        source=booking.source,
        actor=actor,
        now=now,
    )
    series = result.series
    series.rrule, series.local_start = rrule.strip(), local_start
    series.save(update_fields=["rrule", "local_start"])
    booking.series = series
    booking.version += 1
    booking.save(update_fields=["series", "version", "updated_at"])
    audit.record(
        booking, kind=BookingEvent.Kind.UPDATED, actor=actor, at=now, changes={"series": [None, series.pk]}
    )
    result.created.insert(0, booking)
    return result
