"""Every rule of a room, one entry each: its policy fields, why it refuses, how the page says it.

Each refusal is a ``Reason`` that names the rule and its limit in the user's language;
``check`` lists them all, so the API's /check and the UI's "why can't I book this?" say
the same as a refusal. A new rule is a field on Policy and Rules and an entry here, put
in ON_BOOKING (refusals, in the order the API lists them) and ON_THE_PAGE (sentences, in
the order the room page reads).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..conflicts import find_conflicts
from ..errors import InvalidBooking
from ..models import Booking, PolicyHours
from ..spans import lasts, make_span, validate_times
from .groups import group_ids, is_manager, may_book, may_override
from .resolve import Rules, active_blockings

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Reason:
    """One rule that refuses the request: ``rule`` for programs, ``message`` for people."""

    rule: str
    message: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True, kw_only=True)
class Request:
    """What the rules are asked: may ``user`` book ``rules.room`` for [start, end) at ``now``?"""

    user: User
    rules: Rules
    start: datetime
    end: datetime
    now: datetime
    series: bool = False
    # The bookings this request replaces: left out of the quotas.
    exclude: frozenset[int] = frozenset()
    # Whose quotas count: the organizer's, whoever acts (a room manager lengthening someone's
    # booking spends that person's hours); None: the user's own.
    organizer_id: int | None = None
    # Other dates of the same request (a series' earlier dates), counted in the quotas with this one.
    together: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def owner_id(self) -> int | None:
        return self.organizer_id if self.organizer_id is not None else self.user.pk


@dataclass(frozen=True)
class Rule:
    """One rule: the Policy fields it reads, why it refuses a request, how the room page says it."""

    # Its refusals' ``rule``: API clients match on it, so it stays as it is.
    name: str
    fields: tuple[str, ...] = ()
    # Yields a message for each way the request breaks the rule.
    refuse: Callable[[Request], Iterator[str]] | None = None
    # The sentence for the room page; None where the rule does not apply to the room.
    explain: Callable[[Rules], str | None] | None = None
    # Overriders are not bound by it; a blocking binds them too.
    overridable: bool = True


def _local(value: datetime, rules: Rules) -> datetime:
    return value.astimezone(rules.room.floor.building.site.tz)


def _clock(value: time) -> str:
    return formats.time_format(value, "H:i")


def _stretches(stretches: list[tuple[time, time]]) -> str:
    return ", ".join(f"{_clock(o)}–{_clock(c)}" for o, c in stretches)


def _moment(value: datetime, rules: Rules) -> str:
    return formats.date_format(_local(value, rules), "SHORT_DATETIME_FORMAT")


def _weekday_name(weekday: int) -> str:
    return str(PolicyHours.Weekday(weekday).label)


# --- blockings and who may book ---------------------------------------------------------


def _refuse_blocked(ask: Request) -> Iterator[str]:
    for blocking in active_blockings(ask.rules.room, ask.start, ask.end):
        allowed = {g.pk for g in blocking.allowed_groups.all()}
        if ask.user.is_superuser or group_ids(ask.user) & allowed:
            continue
        yield (
            _("The room is closed from %(start)s to %(end)s: %(reason)s")
            % {
                "start": _moment(blocking.span.lower, ask.rules),
                "end": _moment(blocking.span.upper, ask.rules),
                "reason": blocking.reason,
            }
        )


BLOCKING = Rule("blocking", refuse=_refuse_blocked, overridable=False)


def _refuse_outsider(ask: Request) -> Iterator[str]:
    if not may_book(ask.user, ask.rules):
        yield _("Only certain groups may book this room; you can see it but not book it.")


BOOKERS = Rule("bookers", fields=("bookers",), refuse=_refuse_outsider)


# --- when and how long ------------------------------------------------------------------


def _refuse_short_notice(ask: Request) -> Iterator[str]:
    n = ask.rules.min_notice_minutes
    if n is not None and ask.start - ask.now < timedelta(minutes=n):
        yield (
            ngettext(
                "This room must be booked at least %(n)d minute before the start.",
                "This room must be booked at least %(n)d minutes before the start.",
                n,
            )
            % {"n": n}
        )


def _explain_notice(rules: Rules) -> str | None:
    n = rules.min_notice_minutes
    if not n:
        return None
    return ngettext(
        "At least %(n)d minute before the start.", "At least %(n)d minutes before the start.", n
    ) % {"n": n}


MIN_NOTICE = Rule(
    "min_notice", fields=("min_notice_minutes",), refuse=_refuse_short_notice, explain=_explain_notice
)


def _refuse_far_ahead(ask: Request) -> Iterator[str]:
    n = ask.rules.max_advance_days
    if n is None:
        return
    last_day = _local(ask.now, ask.rules).date() + timedelta(days=n)
    if _local(ask.start, ask.rules).date() > last_day:
        yield (
            ngettext(
                "This room can be booked at most %(n)d day in advance.",
                "This room can be booked at most %(n)d days in advance.",
                n,
            )
            % {"n": n}
        )


def _explain_advance(rules: Rules) -> str | None:
    n = rules.max_advance_days
    if n is None:
        return None
    return ngettext("Up to %(n)d day in advance.", "Up to %(n)d days in advance.", n) % {"n": n}


MAX_ADVANCE = Rule(
    "max_advance_days", fields=("max_advance_days",), refuse=_refuse_far_ahead, explain=_explain_advance
)


def _refuse_too_long(ask: Request) -> Iterator[str]:
    n = ask.rules.max_duration_minutes
    if n is not None and lasts(ask.start, ask.end) > timedelta(minutes=n):
        yield (
            ngettext(
                "This room can be booked for at most %(n)d minute at a time.",
                "This room can be booked for at most %(n)d minutes at a time.",
                n,
            )
            % {"n": n}
        )


def _explain_duration(rules: Rules) -> str | None:
    n = rules.max_duration_minutes
    if not n:
        return None
    return ngettext("At most %(n)d minute at a time.", "At most %(n)d minutes at a time.", n) % {"n": n}


MAX_DURATION = Rule(
    "max_duration", fields=("max_duration_minutes",), refuse=_refuse_too_long, explain=_explain_duration
)


def _refuse_out_of_hours(ask: Request) -> Iterator[str]:
    rules = ask.rules
    if rules.hours is None:
        return
    local_start, local_end = _local(ask.start, rules), _local(ask.end, rules)
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
            return
    day = _weekday_name(weekday)
    if not stretches:
        yield _("This room cannot be booked on %(weekday)s.") % {"weekday": day}
        return
    yield (
        _("On %(weekday)s this room can be booked only %(hours)s.")
        % {"weekday": day, "hours": _stretches(stretches)}
    )


def _explain_hours(rules: Rules) -> str | None:
    if rules.hours is None:
        return None
    days = [
        f"{_weekday_name(weekday)} {_stretches(stretches)}"
        for weekday in range(1, 8)
        if (stretches := rules.hours.get(weekday))
    ]
    return _("Bookable: %(hours)s.") % {"hours": "; ".join(days)} if days else _("Not bookable on any day.")


# The stretches are PolicyHours rows, not a field: the nearest place that has any wins.
HOURS = Rule("hours", refuse=_refuse_out_of_hours, explain=_explain_hours)


def _refuse_series(ask: Request) -> Iterator[str]:
    if ask.series and not ask.rules.series_allowed:
        yield _("This room cannot be booked as a series.")


def _explain_series(rules: Rules) -> str | None:
    return None if rules.series_allowed else _("No series.")


SERIES = Rule("series_allowed", fields=("series_allowed",), refuse=_refuse_series, explain=_explain_series)


# --- quotas: the person's bookings in the place that set the quota ---------------------


def _window(ask: Request, *, week: bool) -> tuple[datetime, datetime]:
    """The request's local day, or its local week from Monday, in the site's zone."""
    tz = ask.rules.room.floor.building.site.tz
    day = _local(ask.start, ask.rules).date()
    first, days = (_week_start(day), 7) if week else (day, 1)
    return datetime.combine(first, time(0), tzinfo=tz), datetime.combine(
        first + timedelta(days=days), time(0), tzinfo=tz
    )


def _booked_here(ask: Request, name: str, *, week: bool) -> QuerySet[Booking] | None:
    """The owner's active bookings starting in the request's local day or week where ``name`` was set.

    None when no place sets the quota (or nobody is logged in).
    """
    policy = ask.rules.quota_places.get(name)
    if policy is None or not ask.owner_id:
        return None
    lo, hi = _window(ask, week=week)
    mine = Booking.objects.filter(
        policy.bookings_here(),
        organizer_id=ask.owner_id,
        status__in=Booking.ACTIVE,
        span__startswith__gte=lo,
        span__startswith__lt=hi,
    )
    return mine.exclude(pk__in=ask.exclude) if ask.exclude else mine


def _with_it(ask: Request, *, week: bool) -> list[tuple[datetime, datetime]]:
    """The request's own span and those of its other dates that fall in the same window."""
    lo, hi = _window(ask, week=week)
    return [(ask.start, ask.end), *((s, e) for s, e in ask.together if lo <= s < hi)]


def _week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _count_limit_broken(ask: Request, name: str, *, week: bool) -> int | None:
    """The quota ``name`` on the number of bookings, when the request breaks it; else None."""
    mine = _booked_here(ask, name, week=week)
    limit = getattr(ask.rules, name)
    return limit if mine is not None and mine.count() + len(_with_it(ask, week=week)) > limit else None


def _hours_limit_broken(ask: Request, name: str, *, week: bool) -> Decimal | None:
    """The quota ``name`` on booked hours, when the request breaks it; else None."""
    mine = _booked_here(ask, name, week=week)
    if mine is None:
        return None
    limit = getattr(ask.rules, name)
    spans = [(b.span.lower, b.span.upper) for b in mine.only("span")] + _with_it(ask, week=week)
    total = Decimal(sum((lasts(s, e) for s, e in spans), timedelta(0)).total_seconds()) / 3600
    return limit if total > limit else None


def _hours(limit: Decimal) -> str:
    return formats.number_format(limit.normalize())


def _refuse_bookings_per_day(ask: Request) -> Iterator[str]:
    n = _count_limit_broken(ask, "max_bookings_per_day", week=False)
    if n is not None:
        yield (
            ngettext(
                "You can book at most %(n)d room booking per day here.",
                "You can book at most %(n)d room bookings per day here.",
                n,
            )
            % {"n": n}
        )


def _refuse_hours_per_day(ask: Request) -> Iterator[str]:
    limit = _hours_limit_broken(ask, "max_hours_per_day", week=False)
    if limit is not None:
        yield _("You can book at most %(hours)s hours per day here.") % {"hours": _hours(limit)}


def _refuse_bookings_per_week(ask: Request) -> Iterator[str]:
    n = _count_limit_broken(ask, "max_bookings_per_week", week=True)
    if n is not None:
        yield (
            ngettext(
                "You can book at most %(n)d room booking per week here.",
                "You can book at most %(n)d room bookings per week here.",
                n,
            )
            % {"n": n}
        )


def _refuse_hours_per_week(ask: Request) -> Iterator[str]:
    limit = _hours_limit_broken(ask, "max_hours_per_week", week=True)
    if limit is not None:
        yield _("You can book at most %(hours)s hours per week here.") % {"hours": _hours(limit)}


MAX_BOOKINGS_PER_DAY = Rule(
    "max_bookings_per_day", fields=("max_bookings_per_day",), refuse=_refuse_bookings_per_day
)
MAX_HOURS_PER_DAY = Rule("max_hours_per_day", fields=("max_hours_per_day",), refuse=_refuse_hours_per_day)
MAX_BOOKINGS_PER_WEEK = Rule(
    "max_bookings_per_week", fields=("max_bookings_per_week",), refuse=_refuse_bookings_per_week
)
MAX_HOURS_PER_WEEK = Rule("max_hours_per_week", fields=("max_hours_per_week",), refuse=_refuse_hours_per_week)


# --- what a booking brings with it: buffers, cancelling, approval, check-in ------------
# These refuse no booking; create_booking applies them (services.bookings.apply_rules).


def _explain_buffers(rules: Rules) -> str | None:
    before, after = rules.buffer_before_minutes or 0, rules.buffer_after_minutes or 0
    if before and after:
        return _(
            "%(before)d minutes to set up before and %(after)d minutes to clean up after each booking."
        ) % {"before": before, "after": after}
    if before:
        return _("%(before)d minutes to set up before each booking.") % {"before": before}
    if after:
        return _("%(after)d minutes to clean up after each booking.") % {"after": after}
    return None


BUFFERS = Rule("buffers", fields=("buffer_before_minutes", "buffer_after_minutes"), explain=_explain_buffers)


def _refuse_late_cancel(ask: Request) -> Iterator[str]:
    n = ask.rules.cancel_cutoff_minutes
    if n is not None and ask.start - ask.now < timedelta(minutes=n):
        yield (
            ngettext(
                "Bookings of this room can be cancelled until %(n)d minute before the start.",
                "Bookings of this room can be cancelled until %(n)d minutes before the start.",
                n,
            )
            % {"n": n}
        )


def _explain_cancel_cutoff(rules: Rules) -> str | None:
    n = rules.cancel_cutoff_minutes
    if n is None:
        return None
    return ngettext(
        "Cancel until %(n)d minute before the start.", "Cancel until %(n)d minutes before the start.", n
    ) % {"n": n}


# Refuses a cancellation, not a booking: cancel_reason asks it.
CANCEL_CUTOFF = Rule(
    "cancel_cutoff",
    fields=("cancel_cutoff_minutes",),
    refuse=_refuse_late_cancel,
    explain=_explain_cancel_cutoff,
)


def _explain_approval(rules: Rules) -> str | None:
    return _("Bookings need the approval of a room manager.") if rules.requires_approval else None


APPROVAL = Rule(
    "requires_approval", fields=("requires_approval", "approval_timeout_hours"), explain=_explain_approval
)


def _explain_check_in(rules: Rules) -> str | None:
    if not rules.requires_check_in:
        return None
    n = int(rules.check_in_grace.total_seconds() // 60)
    return ngettext(
        "Check in within %(n)d minute of the start, or the booking is released.",
        "Check in within %(n)d minutes of the start, or the booking is released.",
        n,
    ) % {"n": n}


CHECK_IN = Rule(
    "requires_check_in", fields=("requires_check_in", "check_in_grace_minutes"), explain=_explain_check_in
)


def _explain_waiting_offer(rules: Rules) -> str | None:
    if rules.waiting_offer is None:
        return None
    n = rules.waiting_offer_minutes or 0
    return ngettext(
        "When a slot frees up, the first on the waiting list has %(n)d minute to accept it.",
        "When a slot frees up, the first on the waiting list has %(n)d minutes to accept it.",
        n,
    ) % {"n": n}


WAITING_OFFER = Rule("waiting_offer", fields=("waiting_offer_minutes",), explain=_explain_waiting_offer)


# The order the API and the forms list the reasons in: blockings first, they bind
# everyone; then who may book; then the request's own times; the quotas last, as they
# cost a query each.
ON_BOOKING = (
    BLOCKING,
    BOOKERS,
    MIN_NOTICE,
    MAX_ADVANCE,
    MAX_DURATION,
    HOURS,
    SERIES,
    MAX_BOOKINGS_PER_DAY,
    MAX_HOURS_PER_DAY,
    MAX_BOOKINGS_PER_WEEK,
    MAX_HOURS_PER_WEEK,
)
# The room page reads in the order one books: when, how long, then what follows.
ON_THE_PAGE = (
    HOURS,
    MAX_ADVANCE,
    MIN_NOTICE,
    MAX_DURATION,
    BUFFERS,
    CANCEL_CUTOFF,
    SERIES,
    APPROVAL,
    CHECK_IN,
    WAITING_OFFER,
)


# --- applying the rules -------------------------------------------------------------------


def verdict(
    *,
    user: User,
    rules: Rules,
    start: datetime,
    end: datetime,
    now: datetime,
    series: bool = False,
    exclude: Collection[int] = (),
    organizer_id: int | None = None,
    together: tuple[tuple[datetime, datetime], ...] = (),
    name_overridden: bool = False,
) -> tuple[list[Reason], list[str]]:
    """The reasons that refuse the request, in a fixed order, and the rules the user overrides.

    Overriders are not bound by the overridable rules; with ``name_overridden`` the rules
    they break anyway are named (for the audit log), at the cost of checking them.
    """
    ask = Request(
        user=user,
        rules=rules,
        start=start,
        end=end,
        now=now,
        series=series,
        exclude=frozenset(exclude),
        organizer_id=organizer_id,
        together=together,
    )
    exempt = may_override(user, rules)
    refused: list[Reason] = []
    overridden: list[str] = []
    for rule in ON_BOOKING:
        if rule.refuse is None:
            continue
        if exempt and rule.overridable:
            if name_overridden and next(rule.refuse(ask), None) is not None:
                overridden.append(rule.name)
            continue
        refused.extend(Reason(rule.name, message) for message in rule.refuse(ask))
    return refused, overridden


def check(
    *,
    user: User,
    rules: Rules,
    start: datetime,
    end: datetime,
    now: datetime,
    series: bool = False,
    exclude: Collection[int] = (),
    organizer_id: int | None = None,
) -> list[Reason]:
    """Every rule the request breaks, in a fixed order; empty when it may be booked."""
    reasons, _overridden = verdict(
        user=user,
        rules=rules,
        start=start,
        end=end,
        now=now,
        series=series,
        exclude=exclude,
        organizer_id=organizer_id,
    )
    return reasons


def describe(rules: Rules) -> list[str]:
    """The room's rules in sentences, for its page (empty when none applies)."""
    return [line for rule in ON_THE_PAGE if rule.explain is not None and (line := rule.explain(rules))]


def cancel_reason(user: User, booking: Booking, rules: Rules, *, now: datetime) -> Reason | None:
    """Why the user may not cancel now (the cut-off), or None; overriders and managers may."""
    if rules.cancel_cutoff is None or may_override(user, rules) or is_manager(user, rules):
        return None
    ask = Request(user=user, rules=rules, start=booking.span.lower, end=booking.span.upper, now=now)
    message = next(_refuse_late_cancel(ask), None)
    return None if message is None else Reason(CANCEL_CUTOFF.name, message)


def obstacles(
    *,
    user: User,
    rules: Rules,
    start: datetime,
    end: datetime,
    now: datetime,
    organizer_id: int | None = None,
) -> list[Reason]:
    """Everything that stands between the user and booking ``rules.room``: bad times, rules, other bookings.

    The same checks create_booking makes, without writing; for /check and the UI.
    ``organizer_id``: a delegate asks for their principal, whose quotas count.
    """
    room = rules.room
    try:
        validate_times(start, end, now=now)
    except InvalidBooking as exc:
        return [Reason("times", exc.message)]
    if not room.bookable:
        return [Reason("bookable", _("The room %(room)s cannot be booked.") % {"room": room.name})]
    reasons = check(user=user, rules=rules, start=start, end=end, now=now, organizer_id=organizer_id)
    if find_conflicts(room.pk, make_span(start, end), before=rules.buffer_before, after=rules.buffer_after):
        reasons.append(Reason("conflict", _("The room is already booked at this time.")))
    return reasons
