"""The rules facility management sets, resolved for a room and applied to a request.

A room's rules come from its own policy, then its building's, then its site's: the
nearest place that sets a field wins. Managers and overriders add up over the places
(a building's room managers manage each of its rooms). Every refusal is a ``Reason``
that names the rule and its limit in the user's language; ``check`` lists them all,
so the API's /check and the UI's "why can't I book this?" say the same as a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .conflicts import find_conflicts
from .errors import InvalidBooking
from .models import Blocking, Booking, Policy, Room
from .spans import make_span, validate_times

DEFAULT_APPROVAL_TIMEOUT = timedelta(hours=48)
DEFAULT_CHECK_IN_GRACE = timedelta(minutes=15)

SCALAR_FIELDS = (
    "min_notice_minutes",
    "max_advance_days",
    "max_duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "cancel_cutoff_minutes",
    "series_allowed",
    "requires_approval",
    "approval_timeout_hours",
    "requires_check_in",
    "check_in_grace_minutes",
    "max_bookings_per_day",
    "max_bookings_per_week",
    "max_hours_per_day",
    "max_hours_per_week",
)
QUOTA_FIELDS = ("max_bookings_per_day", "max_bookings_per_week", "max_hours_per_day", "max_hours_per_week")


@dataclass(frozen=True)
class Reason:
    """One rule that refuses the request: ``rule`` for programs, ``message`` for people."""

    rule: str
    message: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message}


@dataclass
class Rules:
    """A room's effective rules; None means the rule does not apply."""

    room: Room
    values: dict = field(default_factory=dict)
    # Which place set each quota: quotas count the person's bookings in that place.
    quota_places: dict = field(default_factory=dict)
    # weekday (1 = Monday) -> [(opens, closes)]; None: bookable around the clock.
    hours: dict[int, list[tuple[time, time]]] | None = None
    bookers: frozenset[int] | None = None
    overriders: frozenset[int] = frozenset()
    managers: frozenset[int] = frozenset()

    def minutes(self, name: str) -> timedelta | None:
        value = self.values.get(f"{name}_minutes")
        return None if value is None else timedelta(minutes=value)

    @property
    def buffer_before(self) -> timedelta:
        return self.minutes("buffer_before") or timedelta(0)

    @property
    def buffer_after(self) -> timedelta:
        return self.minutes("buffer_after") or timedelta(0)

    @property
    def requires_approval(self) -> bool:
        return bool(self.values.get("requires_approval"))

    @property
    def requires_check_in(self) -> bool:
        return bool(self.values.get("requires_check_in"))

    @property
    def series_allowed(self) -> bool:
        return self.values.get("series_allowed") is not False

    @property
    def approval_timeout(self) -> timedelta:
        hours = self.values.get("approval_timeout_hours")
        return DEFAULT_APPROVAL_TIMEOUT if hours is None else timedelta(hours=hours)

    @property
    def check_in_grace(self) -> timedelta:
        return self.minutes("check_in_grace") or DEFAULT_CHECK_IN_GRACE

    @property
    def cancel_cutoff(self) -> timedelta | None:
        return self.minutes("cancel_cutoff")


def _place_order(policy: Policy) -> int:
    return 0 if policy.room_id else 1 if policy.building_id else 2


def _ids(sql: str, params: list) -> list[int]:
    # Plain SQL for the common answer "nothing applies": building the ORM query cost more
    # than running it, on every booking (docs/performance.md, "Rules on the write path").
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def rules_for(room: Room) -> Rules:
    """Resolve the room's rules from its policies: one query, five where a policy applies."""
    building = room.floor.building
    rules = Rules(room=room)
    ids = _ids(
        "SELECT id FROM bookings_policy WHERE room_id = %s OR building_id = %s OR site_id = %s",
        [room.pk, building.pk, building.site_id],
    )
    if not ids:
        return rules
    policies = sorted(
        Policy.objects.filter(pk__in=ids).prefetch_related("hours", "bookers", "overriders", "managers"),
        key=_place_order,
    )
    for name in SCALAR_FIELDS:
        for policy in policies:
            value = getattr(policy, name)
            if value is not None:
                rules.values[name] = value
                if name in QUOTA_FIELDS:
                    rules.quota_places[name] = policy
                break
    for policy in policies:
        stretches = list(policy.hours.all())
        if stretches:
            rules.hours = {}
            for stretch in stretches:
                rules.hours.setdefault(stretch.weekday, []).append((stretch.opens, stretch.closes))
            break
    for policy in policies:
        bookers = {g.pk for g in policy.bookers.all()}
        if bookers:
            rules.bookers = frozenset(bookers)
            break
    rules.overriders = frozenset(g.pk for p in policies for g in p.overriders.all())
    rules.managers = frozenset(g.pk for p in policies for g in p.managers.all())
    return rules


def group_ids(user) -> frozenset[int]:
    cached = getattr(user, "_rfr_group_ids", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("pk", flat=True)) if user.pk else frozenset()
        user._rfr_group_ids = cached
    return cached


# Each checks whether the rule names any group before it reads the user's groups: most
# rooms name none, and then a booking costs no query for them.


def may_override(user, rules: Rules) -> bool:
    """Facility admins and the policy's overriders are not bound by its rules."""
    return user.is_superuser or bool(rules.overriders and group_ids(user) & rules.overriders)


def is_manager(user, rules: Rules) -> bool:
    """Room managers approve requests for the room; facility admins count as managers."""
    return user.is_superuser or bool(rules.managers and group_ids(user) & rules.managers)


def may_book(user, rules: Rules) -> bool:
    return rules.bookers is None or may_override(user, rules) or bool(group_ids(user) & rules.bookers)


def managed_rooms_filter(user) -> Q:
    """A filter on Booking for the rooms the user manages (every room for facility admins)."""
    if user.is_superuser:
        return Q()
    groups = list(group_ids(user))
    if not groups:
        return Q(pk__in=[])
    places = Policy.objects.filter(managers__in=groups)
    return (
        Q(room_id__in=places.filter(room__isnull=False).values("room_id"))
        | Q(room__floor__building_id__in=places.filter(building__isnull=False).values("building_id"))
        | Q(room__floor__building__site_id__in=places.filter(site__isnull=False).values("site_id"))
    )


def manager_user_ids(rules: Rules) -> list[int]:
    """The active users in the room's manager groups (the people an approval request goes to)."""
    from django.contrib.auth import get_user_model

    if not rules.managers:
        return []
    users = get_user_model().objects.filter(is_active=True, groups__in=rules.managers)
    return sorted(set(users.values_list("pk", flat=True)))


def read_only_rooms(user, rooms) -> set[int]:
    """Of these rooms (floor loaded), the ids the user may see but not book (who-may-book).

    One query when no policy names who may book, which is the common case.
    """
    if user.is_superuser:
        return set()
    named = list(
        Policy.objects.filter(Q(bookers__isnull=False) | Q(overriders__isnull=False))
        .distinct()
        .prefetch_related("bookers", "overriders")
    )
    if not any(p.bookers.all() for p in named):
        return set()
    by_place = {}
    for p in named:
        by_place[
            ("room", p.room_id)
            if p.room_id
            else ("building", p.building_id)
            if p.building_id
            else ("site", p.site_id)
        ] = p
    mine = group_ids(user)
    hidden = set()
    for room in rooms:
        building = room.floor.building
        chain = [
            by_place.get(key)
            for key in (("room", room.pk), ("building", building.pk), ("site", building.site_id))
            if key in by_place
        ]
        bookers = next((ids for p in chain if (ids := {g.pk for g in p.bookers.all()})), None)
        if bookers is None:
            continue
        overriders = {g.pk for p in chain for g in p.overriders.all()}
        if not mine & (bookers | overriders):
            hidden.add(room.pk)
    return hidden


def closed_rooms(user, rooms, start: datetime, end: datetime) -> set[int]:
    """Of these rooms (floor loaded), the ids a blocking closes to the user in [start, end)."""
    ids = _ids(
        "SELECT id FROM bookings_blocking WHERE cancelled_at IS NULL AND span && tstzrange(%s, %s, '[)')",
        [start, end],
    )
    if not ids or user.is_superuser:
        return set()
    mine = group_ids(user)
    closing = [
        b
        for b in Blocking.objects.filter(pk__in=ids).prefetch_related("allowed_groups")
        if not mine & {g.pk for g in b.allowed_groups.all()}
    ]
    return {
        room.pk
        for room in rooms
        for b in closing
        if b.room_id == room.pk
        or b.building_id == room.floor.building_id
        or b.site_id == room.floor.building.site_id
    }


def describe(rules: Rules) -> list[str]:
    """The room's rules in sentences, for its page (empty when none applies)."""
    lines = []
    if rules.hours is not None:
        days = []
        for weekday in range(1, 8):
            stretches = rules.hours.get(weekday)
            if stretches:
                spans = ", ".join(f"{_clock(o)}–{_clock(c)}" for o, c in stretches)
                days.append(f"{_weekday_name(weekday)} {spans}")
        lines.append(
            _("Bookable: %(hours)s.") % {"hours": "; ".join(days)} if days else _("Not bookable on any day.")
        )
    values = rules.values
    if values.get("max_advance_days") is not None:
        n = values["max_advance_days"]
        lines.append(ngettext("Up to %(n)d day in advance.", "Up to %(n)d days in advance.", n) % {"n": n})
    if values.get("min_notice_minutes"):
        n = values["min_notice_minutes"]
        lines.append(
            ngettext("At least %(n)d minute before the start.", "At least %(n)d minutes before the start.", n)
            % {"n": n}
        )
    if values.get("max_duration_minutes"):
        n = values["max_duration_minutes"]
        lines.append(
            ngettext("At most %(n)d minute at a time.", "At most %(n)d minutes at a time.", n) % {"n": n}
        )
    before, after = values.get("buffer_before_minutes") or 0, values.get("buffer_after_minutes") or 0
    if before and after:
        lines.append(
            _("%(before)d minutes to set up before and %(after)d minutes to clean up after each booking.")
            % {"before": before, "after": after}
        )
    elif before:
        lines.append(_("%(before)d minutes to set up before each booking.") % {"before": before})
    elif after:
        lines.append(_("%(after)d minutes to clean up after each booking.") % {"after": after})
    if rules.cancel_cutoff is not None:
        n = values["cancel_cutoff_minutes"]
        lines.append(
            ngettext(
                "Cancel until %(n)d minute before the start.",
                "Cancel until %(n)d minutes before the start.",
                n,
            )
            % {"n": n}
        )
    if not rules.series_allowed:
        lines.append(_("No series."))
    if rules.requires_approval:
        lines.append(_("Bookings need the approval of a room manager."))
    if rules.requires_check_in:
        n = int(rules.check_in_grace.total_seconds() // 60)
        lines.append(
            ngettext(
                "Check in within %(n)d minute of the start, or the booking is released.",
                "Check in within %(n)d minutes of the start, or the booking is released.",
                n,
            )
            % {"n": n}
        )
    return lines


# --- applying the rules --------------------------------------------------------------


def _local(value: datetime, rules: Rules) -> datetime:
    return value.astimezone(rules.room.floor.building.site.tz)


def _clock(value: time) -> str:
    return formats.time_format(value, "H:i")


def _moment(value: datetime, rules: Rules) -> str:
    return formats.date_format(_local(value, rules), "SHORT_DATETIME_FORMAT")


def _weekday_name(weekday: int) -> str:
    from .models import PolicyHours

    return str(PolicyHours.Weekday(weekday).label)


def _hours_reason(start: datetime, end: datetime, rules: Rules) -> Reason | None:
    if rules.hours is None:
        return None
    local_start, local_end = _local(start, rules), _local(end, rules)
    weekday = local_start.isoweekday()
    stretches = rules.hours.get(weekday, [])
    same_day = local_end.date() == local_start.date() or (
        local_end.date() == local_start.date() + timedelta(days=1) and local_end.time() == time(0)
    )
    end_clock = (
        time.max
        if local_end.time() == time(0) and local_end.date() != local_start.date()
        else local_end.time()
    )
    for opens, closes in stretches:
        if same_day and opens <= local_start.time() and end_clock <= closes:
            return None
    day = _weekday_name(weekday)
    if not stretches:
        return Reason("hours", _("This room cannot be booked on %(weekday)s.") % {"weekday": day})
    spans = ", ".join(f"{_clock(o)}–{_clock(c)}" for o, c in stretches)
    return Reason(
        "hours",
        _("On %(weekday)s this room can be booked only %(hours)s.") % {"weekday": day, "hours": spans},
    )


def _week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _quota_reasons(user, start: datetime, end: datetime, rules: Rules, exclude: int | None) -> list[Reason]:
    if not rules.quota_places or not user.pk:
        return []
    tz = rules.room.floor.building.site.tz
    day = _local(start, rules).date()
    reasons = []
    for period, first, days in (("day", day, 1), ("week", _week_start(day), 7)):
        count_name, hours_name = f"max_bookings_per_{period}", f"max_hours_per_{period}"
        window_start = datetime.combine(first, time(0), tzinfo=tz)
        window_end = datetime.combine(first + timedelta(days=days), time(0), tzinfo=tz)
        for name in (count_name, hours_name):
            policy = rules.quota_places.get(name)
            if policy is None:
                continue
            mine = Booking.objects.filter(
                policy.bookings_here(),
                organizer=user,
                status__in=Booking.ACTIVE,
                span__startswith__gte=window_start,
                span__startswith__lt=window_end,
            )
            if exclude is not None:
                mine = mine.exclude(pk=exclude)
            limit = rules.values[name]
            if name == count_name:
                if mine.count() + 1 > limit:
                    text = (
                        ngettext(
                            "You can book at most %(n)d room booking per day here.",
                            "You can book at most %(n)d room bookings per day here.",
                            limit,
                        )
                        if period == "day"
                        else ngettext(
                            "You can book at most %(n)d room booking per week here.",
                            "You can book at most %(n)d room bookings per week here.",
                            limit,
                        )
                    )
                    reasons.append(Reason(name, text % {"n": limit}))
            else:
                booked = sum((b.span.upper - b.span.lower for b in mine.only("span")), timedelta(0))
                total = Decimal((booked + (end - start)).total_seconds()) / 3600
                if total > limit:
                    text = (
                        _("You can book at most %(hours)s hours per day here.")
                        if period == "day"
                        else _("You can book at most %(hours)s hours per week here.")
                    )
                    reasons.append(Reason(name, text % {"hours": formats.number_format(limit.normalize())}))
    return reasons


def active_blockings(room: Room, start: datetime, end: datetime) -> list[Blocking]:
    """The blockings of the room, its building or its site that meet [start, end)."""
    building = room.floor.building
    ids = _ids(
        "SELECT id FROM bookings_blocking WHERE cancelled_at IS NULL AND span && tstzrange(%s, %s, '[)')"
        " AND (room_id = %s OR building_id = %s OR site_id = %s)",
        [start, end, room.pk, building.pk, building.site_id],
    )
    if not ids:
        return []
    return list(Blocking.objects.filter(pk__in=ids).prefetch_related("allowed_groups").order_by("span"))


def _blocking_reasons(user, start: datetime, end: datetime, rules: Rules) -> list[Reason]:
    reasons = []
    for blocking in active_blockings(rules.room, start, end):
        allowed = {g.pk for g in blocking.allowed_groups.all()}
        if user.is_superuser or group_ids(user) & allowed:
            continue
        reasons.append(
            Reason(
                "blocking",
                _("The room is closed from %(start)s to %(end)s: %(reason)s")
                % {
                    "start": _moment(blocking.span.lower, rules),
                    "end": _moment(blocking.span.upper, rules),
                    "reason": blocking.reason,
                },
            )
        )
    return reasons


def check(
    *,
    user,
    rules: Rules,
    start: datetime,
    end: datetime,
    now: datetime,
    series: bool = False,
    exclude: int | None = None,
) -> list[Reason]:
    """Every rule the request breaks, in a fixed order; empty when it may be booked."""
    reasons = _blocking_reasons(user, start, end, rules)
    if may_override(user, rules):
        return reasons
    if not may_book(user, rules):
        reasons.append(
            Reason("bookers", _("Only certain groups may book this room; you can see it but not book it."))
        )
    notice = rules.minutes("min_notice")
    if notice is not None and start - now < notice:
        minutes = int(notice.total_seconds() // 60)
        reasons.append(
            Reason(
                "min_notice",
                ngettext(
                    "This room must be booked at least %(n)d minute before the start.",
                    "This room must be booked at least %(n)d minutes before the start.",
                    minutes,
                )
                % {"n": minutes},
            )
        )
    advance = rules.values.get("max_advance_days")
    if advance is not None and _local(start, rules).date() > _local(now, rules).date() + timedelta(
        days=advance
    ):
        reasons.append(
            Reason(
                "max_advance_days",
                ngettext(
                    "This room can be booked at most %(n)d day in advance.",
                    "This room can be booked at most %(n)d days in advance.",
                    advance,
                )
                % {"n": advance},
            )
        )
    longest = rules.minutes("max_duration")
    if longest is not None and end - start > longest:
        minutes = int(longest.total_seconds() // 60)
        reasons.append(
            Reason(
                "max_duration",
                ngettext(
                    "This room can be booked for at most %(n)d minute at a time.",
                    "This room can be booked for at most %(n)d minutes at a time.",
                    minutes,
                )
                % {"n": minutes},
            )
        )
    hours = _hours_reason(start, end, rules)
    if hours is not None:
        reasons.append(hours)
    if series and not rules.series_allowed:
        reasons.append(Reason("series_allowed", _("This room cannot be booked as a series.")))
    reasons.extend(_quota_reasons(user, start, end, rules, exclude))
    return reasons


def cancel_reason(user, booking: Booking, rules: Rules, *, now: datetime) -> Reason | None:
    """Why the user may not cancel now (the cut-off), or None."""
    cutoff = rules.cancel_cutoff
    if cutoff is None or may_override(user, rules) or is_manager(user, rules):
        return None
    if booking.span.lower - now >= cutoff:
        return None
    minutes = int(cutoff.total_seconds() // 60)
    return Reason(
        "cancel_cutoff",
        ngettext(
            "Bookings of this room can be cancelled until %(n)d minute before the start.",
            "Bookings of this room can be cancelled until %(n)d minutes before the start.",
            minutes,
        )
        % {"n": minutes},
    )


def obstacles(*, user, rules: Rules, start: datetime, end: datetime, now: datetime) -> list[Reason]:
    """Everything that stands between the user and booking ``rules.room``: bad times, rules, other bookings.

    The same checks create_booking makes, without writing; for /check and the UI.
    """
    room = rules.room
    try:
        validate_times(start, end, now=now)
    except InvalidBooking as exc:
        return [Reason("times", exc.message)]
    if not room.bookable:
        return [Reason("bookable", _("The room %(room)s cannot be booked.") % {"room": room.name})]
    reasons = check(user=user, rules=rules, start=start, end=end, now=now)
    if find_conflicts(room.pk, make_span(start, end), before=rules.buffer_before, after=rules.buffer_after):
        reasons.append(Reason("conflict", _("The room is already booked at this time.")))
    return reasons
