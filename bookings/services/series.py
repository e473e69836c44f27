"""Recurring bookings: every occurrence is a Booking row guarded by the constraint."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import hooks, recurrence
from ..errors import BookingConflict, InvalidBooking, NotAllowed, PolicyViolation
from ..models import Booking, BookingEvent, Room, Series
from ..outbox import enqueue
from ..rules.catalogue import cancel_reason, verdict
from ..rules.groups import is_manager
from ..rules.resolve import Rules, rules_for
from ..spans import blocked, ends_after, lasts, make_span, validate_times
from . import audit, deadlines
from .bookings import (
    apply_rules,
    check_bookable,
    check_on_behalf,
    clean_attendees,
    clean_title,
    lock_quota,
    mark_cancelled,
    overridden_note,
    save_or_conflict,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class SeriesResult:
    series: Series
    created: list[Booking] = field(default_factory=list)
    # (start, end, [bookings in the way]) for each occurrence left out
    skipped: list[tuple] = field(default_factory=list)


def _unique(bookings: Iterable[Booking]) -> list[Booking]:
    """Each booking in the way once, though it may block several occurrences."""
    return list({b.pk: b for b in bookings}.values())


def _busy_by_occurrence(
    room_id: int, spans: list[DateTimeTZRange], rules: Rules, *, now: datetime
) -> list[list[Booking]]:
    """For each span, the active bookings in its way (buffers counted): one query over the range.

    Bookings in the way only because a deadline has passed are expired or released first.
    """
    wide = [blocked(s, rules.buffer_before, rules.buffer_after) for s in spans]
    existing = list(
        Booking.objects.filter(
            room_id=room_id,
            status__in=Booking.ACTIVE,
            blocked_span__overlap=make_span(wide[0].lower, wide[-1].upper),
        )
        .select_related("organizer")
        .order_by("span")
    )
    freed = deadlines.free_overdue(existing, now=now)
    existing = [b for b in existing if b.pk not in freed]
    return [
        [b for b in existing if b.blocked_span.lower < w.upper and w.lower < b.blocked_span.upper]
        for w in wide
    ]


def enforce_each(
    rules: Rules,
    *,
    user: User,
    organizer_id: int,
    spans: list[DateTimeTZRange],
    now: datetime,
    exclude: Collection[int] = (),
) -> list[str]:
    """Raise PolicyViolation naming the first occurrence a rule refuses, and how many are refused.

    The dates count together in the organizer's quotas (three dates in one week are three
    bookings that week), in order, and with the organizer's other bookings. ``exclude``: the bookings
    these dates replace (a series being moved), left out of the quotas. Returns the rules
    ``user`` overrode (for the audit log).
    """
    lock_quota(rules, organizer_id)
    bounds = [(span.lower, span.upper) for span in spans]
    refused, overridden = [], set()
    for i, (start, end) in enumerate(bounds):
        reasons, skipped = verdict(
            user=user,
            rules=rules,
            start=start,
            end=end,
            now=now,
            series=True,
            exclude=exclude,
            organizer_id=organizer_id,
            # The dates before it: the first dates that fit are fine, the one past the limit is named.
            together=tuple(bounds[:i]),
            name_overridden=True,
        )
        overridden.update(skipped)
        if reasons:
            refused.append((spans[i], reasons))
    if not refused:
        return sorted(overridden)
    span, reasons = refused[0]
    when = formats.date_format(span.lower.astimezone(rules.room.floor.building.site.tz), "SHORT_DATE_FORMAT")
    message = ngettext(
        "%(n)d occurrence breaks a rule of the room, the first on %(date)s: %(reason)s",
        "%(n)d occurrences break a rule of the room, the first on %(date)s: %(reason)s",
        len(refused),
    ) % {"n": len(refused), "date": when, "reason": reasons[0].message}
    raise PolicyViolation(message, reasons=reasons)


def _moved(
    elsewhere: Mapping[datetime, Room],
    spans: list[DateTimeTZRange],
    busy: list[list[Booking]],
    *,
    room: Room,
    user: User,
    organizer: User,
    now: datetime,
) -> dict[int, tuple[Room, Rules]]:
    """The occurrences taken in another room, by index, with that room and its rules.

    Raises unless each is a taken date of the series, in a bookable room of the same site,
    free there and allowed by that room's rules.
    """
    index = {span.lower: i for i, span in enumerate(spans)}
    by_room: dict[int, list[int]] = {}
    rooms: dict[int, Room] = {}
    for start, other in elsewhere.items():
        i = index.get(start)
        if i is None or not busy[i]:
            raise InvalidBooking(_("Another room can only be chosen for a taken date of the series."))
        if other.pk == room.pk or other.floor.building.site_id != room.floor.building.site_id:
            raise InvalidBooking(_("Please choose another room of the same site."), field="room")
        check_bookable(other)
        by_room.setdefault(other.pk, []).append(i)
        rooms[other.pk] = other
    moved = {}
    for pk, indexes in by_room.items():
        indexes.sort()  # _busy_by_occurrence reads the range from the first to the last
        other = rooms[pk]
        other_rules = rules_for(other)
        if user.pk != organizer.pk:
            check_on_behalf(user, organizer, other_rules)
        their_spans = [spans[i] for i in indexes]
        enforce_each(other_rules, user=user, organizer_id=organizer.pk, spans=their_spans, now=now)
        taken = [
            (s.lower, s.upper, b)
            for s, b in zip(
                their_spans, _busy_by_occurrence(pk, their_spans, other_rules, now=now), strict=True
            )
            if b
        ]
        if taken:
            raise BookingConflict(
                ngettext(
                    "%(room)s is not free on the date chosen for it.",
                    "%(room)s is not free on %(n)d of the dates chosen for it.",
                    len(taken),
                )
                % {"room": other.name, "n": len(taken)},
                conflicts=_unique(b for _s, _e, bs in taken for b in bs),
                occurrences=taken,
            )
        for i in indexes:
            moved[i] = (other, other_rules)
    return moved


@transaction.atomic
def create_series(
    *,
    room: Room,
    organizer: User,
    title: str,
    start: datetime,
    end: datetime,
    rrule: str,
    skip_conflicts: bool = False,
    private: bool = False,
    attendees: list[str] | None = None,
    invite_attendees: bool = False,
    source: str = Booking.Source.WEB,
    actor: User | None = None,
    now: datetime | None = None,
    elsewhere: Mapping[datetime, Room] | None = None,
) -> SeriesResult:
    """Book every occurrence, or (skip_conflicts) the free ones.

    ``elsewhere``: taken occurrences (by their start) the user takes in another room of the
    same site instead. Each such date must be taken in ``room``, free in the other room and
    allowed by its rules, or nothing is booked (BookingConflict, PolicyViolation,
    InvalidBooking); the database decides a race with the same all-or-nothing.

    ``actor`` other than ``organizer``: a delegate books in the organizer's name (NotAllowed
    unless they may). Raises InvalidBooking for a bad rule or times, PolicyViolation when the room's rules
    refuse an occurrence, BookingConflict when an occurrence is taken (all or nothing)
    or when nothing at all is free; writes nothing then.
    """
    now = now or timezone.now()
    validate_times(start, end, now=now)
    check_bookable(room)
    title, attendees = clean_title(title), clean_attendees(attendees)
    tz = room.floor.building.site.tz
    local_start = start.astimezone(tz)
    duration = lasts(start, end)
    starts = recurrence.occurrences(rrule, local_start=local_start, tz=tz)
    spans = [make_span(s, ends_after(s, duration)) for s in starts]
    validate_times(spans[0].lower, spans[0].upper, now=now)
    # The last one too: a rule can carry a valid start past the latest storable time.
    validate_times(spans[-1].lower, spans[-1].upper, now=now)
    rules = rules_for(room)
    user = actor or organizer
    booked_by = None
    if user.pk != organizer.pk:
        check_on_behalf(user, organizer, rules)
        booked_by = user
    overridden = enforce_each(rules, user=user, organizer_id=organizer.pk, spans=spans, now=now)
    busy = _busy_by_occurrence(room.pk, spans, rules, now=now)
    moved = _moved(elsewhere or {}, spans, busy, room=room, user=user, organizer=organizer, now=now)
    refused = [
        (s.lower, s.upper, b)
        for i, (s, b) in enumerate(zip(spans, busy, strict=True))
        if b and i not in moved
    ]
    if refused and not skip_conflicts:
        raise BookingConflict(
            ngettext(
                "%(n)d occurrence of the series is already booked.",
                "%(n)d occurrences of the series are already booked.",
                len(refused),
            )
            % {"n": len(refused)},
            conflicts=_unique(b for _s, _e, bs in refused for b in bs),
            occurrences=refused,
        )

    series = Series.objects.create(
        room=room,
        title=title,
        organizer=organizer,
        booked_by=booked_by,
        rrule=rrule.strip(),
        local_start=local_start,
        duration=duration,
        time_zone=str(tz),
        private=private,
        attendees=attendees,
    )
    result = SeriesResult(series=series, skipped=refused)
    for i, (span, taken) in enumerate(zip(spans, busy, strict=True)):
        if taken and i not in moved:
            continue
        where, where_rules = moved.get(i, (room, rules))
        booking = Booking(
            room=where,
            span=span,
            title=title,
            organizer=organizer,
            booked_by=booked_by,
            private=private,
            attendees=attendees,
            invite_attendees=invite_attendees,
            source=source,
            series=series,
            # In another room than the series: a date of its own, as if changed on its own,
            # so a change to the whole series keeps it where it is.
            series_exception=i in moved,
        )
        apply_rules(booking, where_rules, user=user, now=now)
        try:
            save_or_conflict(booking, now=now)
        except BookingConflict as exc:
            # Someone booked it between our look-up and the insert. A date the user chose
            # another room for is never left out silently: nothing is booked then.
            if not skip_conflicts or i in moved:
                raise
            result.skipped.append((span.lower, span.upper, exc.conflicts))
            continue
        hooks.booking_created(booking=booking, actor=user, now=now)
        changes = overridden_note(overridden)
        if booked_by is not None:
            changes["on_behalf_of"] = organizer.get_username()
        audit.record(
            booking, kind=BookingEvent.Kind.CREATED, actor=user, at=now, changes=changes, announce=False
        )
        result.created.append(booking)
    if not result.created:
        raise BookingConflict(
            _("Every occurrence of the series is already booked."),
            conflicts=_unique(b for _s, _e, bs in result.skipped for b in bs),
            occurrences=result.skipped,
        )
    enqueue(
        topic="series.created",
        payload={
            "series": series.pk,
            "room": room.pk,
            "bookings": [audit.booking_payload(b) for b in result.created],
        },
    )
    return result


@dataclass
class SeriesCancellation:
    cancelled: list[Booking] = field(default_factory=list)
    # (booking, rules.catalogue.Reason): dates that stay, because the cancellation cut-off has passed
    kept: list[tuple] = field(default_factory=list)


def may_cancel_series(user: User, series: Series, rules: Rules | None = None) -> bool:
    """The organizer, the delegate who booked it, facility admins with the permission, and the
    room's managers (as for one date)."""
    if series.organizer_id == user.pk or user.has_perm("bookings.change_booking"):
        return True
    if series.booked_by_id is not None and series.booked_by_id == user.pk:
        return True
    return bool(user.pk) and is_manager(user, rules or rules_for(series.room))


@transaction.atomic
def cancel_series(
    *, series: Series, actor: User, reason: str = "", now: datetime | None = None
) -> SeriesCancellation:
    """Cancel every occurrence that has not started yet, each under the rules a single date has.

    Occurrences already running or over stay as they are, and so do those past their
    room's cancellation cut-off (the same check cancel_booking makes); repeating it
    changes nothing. Raises NotAllowed, or PolicyViolation when the cut-off keeps every
    remaining date (nothing is written then).
    """
    now = now or timezone.now()
    series = (
        Series.objects.select_for_update().select_related("room__floor__building__site").get(pk=series.pk)
    )
    rules_by_room = {series.room_id: rules_for(series.room)}
    if not may_cancel_series(actor, series, rules_by_room[series.room_id]):
        raise NotAllowed(_("Only the organizer can cancel this series."))
    upcoming = list(
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site")
        .filter(series=series, status__in=Booking.ACTIVE, span__startswith__gt=now)
        .order_by("span")
    )
    result = SeriesCancellation()
    for booking in upcoming:
        if booking.room_id not in rules_by_room:
            rules_by_room[booking.room_id] = rules_for(booking.room)
        refusal = cancel_reason(actor, booking, rules_by_room[booking.room_id], now=now)
        if refusal is None:
            result.cancelled.append(booking)
        else:
            result.kept.append((booking, refusal))
    if result.kept and not result.cancelled:
        reasons = [refusal for _b, refusal in result.kept]
        raise PolicyViolation(reasons[0].message, reasons=reasons[:1])
    for booking in result.cancelled:
        mark_cancelled(booking, actor=actor, now=now, reason=reason, announce=False)
    if series.cancelled_at is None and not result.kept:
        series.cancelled_at = now
        series.save(update_fields=["cancelled_at"])
    if result.cancelled:
        enqueue(
            topic="series.cancelled",
            payload={
                "series": series.pk,
                "room": series.room_id,
                "bookings": [audit.booking_payload(b) for b in result.cancelled],
            },
        )
    return result
