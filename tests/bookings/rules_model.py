"""A small reference model of rooms, rules and bookings, written apart from the services.

It predicts the HTTP status of each action and the state of every booking afterwards,
from the rules as the README and the rules matrix (docs/rules.md) state them. It
imports nothing from ``bookings``: where the services and this model disagree, one of
them is wrong, and the property tests in test_rules_model.py say which action it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

GRACE = timedelta(minutes=5)  # a booking may start this long ago
CHECK_IN_OPENS = timedelta(minutes=15)
ACTIVE = ("pending", "confirmed")


@dataclass(frozen=True)
class RoomRules:
    """One room's rules; None: the rule does not apply."""

    tz: ZoneInfo
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int | None = None  # minutes
    max_advance_days: int | None = None
    max_duration: int | None = None  # minutes
    cancel_cutoff: int | None = None  # minutes
    series_allowed: bool = True
    requires_approval: bool = False
    approval_timeout_hours: int = 48
    requires_check_in: bool = False
    check_in_grace: int = 15  # minutes
    per_day: int | None = None  # bookings per person and local day
    hours_per_week: Decimal | None = None  # hours per person and local week (Monday first)


@dataclass
class Entry:
    id: int
    room: int
    organizer: str
    start: datetime
    end: datetime
    status: str
    due: datetime | None = None
    deadline: datetime | None = None
    checked_in: bool = False
    before: timedelta = timedelta(0)
    after: timedelta = timedelta(0)

    def row(self) -> tuple:
        return (self.room, self.organizer, self.start, self.end, self.status, self.checked_in)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


@dataclass
class Model:
    rooms: dict[int, RoomRules]
    managers: frozenset[str]
    entries: dict[int, Entry] = field(default_factory=dict)

    # --- what the rules say -------------------------------------------------------

    def _window(self, rules: RoomRules, start: datetime, days: int) -> tuple[datetime, datetime]:
        day = start.astimezone(rules.tz).date()
        if days == 7:
            day -= timedelta(days=day.weekday())
        first = datetime.combine(day, time(0), tzinfo=rules.tz)
        return first, datetime.combine(day + timedelta(days=days), time(0), tzinfo=rules.tz)

    def _theirs(
        self, room: int, organizer: str, lo: datetime, hi: datetime, exclude: set[int]
    ) -> list[Entry]:
        return [
            e
            for e in self.entries.values()
            if e.room == room
            and e.organizer == organizer
            and e.status in ACTIVE
            and e.id not in exclude
            and lo <= e.start < hi
        ]

    def refused(
        self,
        *,
        room: int,
        organizer: str,
        spans: list[tuple[datetime, datetime]],
        now: datetime,
        series: bool = False,
        exclude: set[int] | None = None,
    ) -> bool:
        """Whether any rule refuses these spans for the organizer (a series' dates count together)."""
        rules, exclude = self.rooms[room], exclude or set()
        if series and not rules.series_allowed:
            return True
        for start, end in spans:
            if rules.min_notice is not None and start - now < timedelta(minutes=rules.min_notice):
                return True
            if rules.max_advance_days is not None and start.astimezone(rules.tz).date() > now.astimezone(
                rules.tz
            ).date() + timedelta(days=rules.max_advance_days):
                return True
            if rules.max_duration is not None and end - start > timedelta(minutes=rules.max_duration):
                return True
            if rules.per_day is not None:
                lo, hi = self._window(rules, start, 1)
                mine = len(self._theirs(room, organizer, lo, hi, exclude))
                if mine + sum(lo <= s < hi for s, _e in spans) > rules.per_day:
                    return True
            if rules.hours_per_week is not None:
                lo, hi = self._window(rules, start, 7)
                booked = sum(
                    (e.end - e.start for e in self._theirs(room, organizer, lo, hi, exclude)), timedelta()
                )
                booked += sum((e - s for s, e in spans if lo <= s < hi), timedelta())
                if Decimal(booked.total_seconds()) / 3600 > rules.hours_per_week:
                    return True
        return False

    def taken(self, *, room: int, start: datetime, end: datetime, exclude: set[int] | None = None) -> bool:
        """Whether an active booking (buffers counted, its own and the new one's) is in the way."""
        rules = self.rooms[room]
        lo = start - timedelta(minutes=rules.buffer_before)
        hi = end + timedelta(minutes=rules.buffer_after)
        return any(
            e.room == room
            and e.status in ACTIVE
            and e.id not in (exclude or set())
            and overlaps(lo, hi, e.start - e.before, e.end + e.after)
            for e in self.entries.values()
        )

    def new_entry(self, *, id_: int, room: int, organizer: str, start: datetime, end: datetime, now) -> Entry:
        rules = self.rooms[room]
        pending = rules.requires_approval and organizer not in self.managers
        return Entry(
            id=id_,
            room=room,
            organizer=organizer,
            start=start,
            end=end,
            status="pending" if pending else "confirmed",
            due=max(min(now + timedelta(hours=rules.approval_timeout_hours), start), now)
            if pending
            else None,
            deadline=start + timedelta(minutes=rules.check_in_grace) if rules.requires_check_in else None,
            before=timedelta(minutes=rules.buffer_before),
            after=timedelta(minutes=rules.buffer_after),
        )

    # --- predictions: the status an action must answer ---------------------------

    def create(self, *, room: int, organizer: str, start: datetime, end: datetime, now: datetime) -> int:
        if self.refused(room=room, organizer=organizer, spans=[(start, end)], now=now):
            return 403
        if self.taken(room=room, start=start, end=end):
            return 409
        return 201

    def series_spans(self, *, room: int, start: datetime, end: datetime, count: int) -> list[tuple]:
        """Daily at the same wall-clock time; a time the clocks skip moves forward (RFC 5545)."""
        tz = self.rooms[room].tz
        naive = start.astimezone(tz).replace(tzinfo=None)
        spans = []
        for i in range(count):
            # fold=0 in a gap means the offset before it: 02:30 becomes 03:30.
            s = (naive + timedelta(days=i)).replace(tzinfo=tz).astimezone(UTC)
            spans.append((s, s + (end - start)))
        return spans

    def create_series(self, *, room: int, organizer: str, spans: list[tuple], now: datetime) -> int:
        if self.refused(room=room, organizer=organizer, spans=spans, now=now, series=True):
            return 403
        if any(self.taken(room=room, start=s, end=e) for s, e in spans):
            return 409
        return 201

    def may_manage(self, actor: str, entry: Entry) -> bool:
        return actor == entry.organizer or actor in self.managers

    def move(self, *, actor: str, entry: Entry, start: datetime, end: datetime, now: datetime) -> int:
        if not self.may_manage(actor, entry):
            return 403
        if entry.status not in ACTIVE or entry.end <= now:
            return 422
        if (start, end) == (entry.start, entry.end):
            return 200
        if start != entry.start and start < now - GRACE:
            return 422
        # Quotas belong to the organizer, whoever makes the change.
        if self.refused(
            room=entry.room, organizer=entry.organizer, spans=[(start, end)], now=now, exclude={entry.id}
        ):
            return 403
        if self.taken(room=entry.room, start=start, end=end, exclude={entry.id}):
            return 409
        return 200

    def moved(self, entry: Entry, start: datetime, end: datetime) -> Entry:
        rules = self.rooms[entry.room]
        deadline = entry.deadline
        if rules.requires_check_in and not entry.checked_in:
            deadline = start + timedelta(minutes=rules.check_in_grace)
        return replace(entry, start=start, end=end, deadline=deadline)

    def cancel(self, *, actor: str, entry: Entry, now: datetime) -> int:
        if not self.may_manage(actor, entry):
            return 403
        if entry.status == "cancelled":
            return 200
        if entry.status not in ACTIVE or entry.end <= now:
            return 422
        cutoff = self.rooms[entry.room].cancel_cutoff
        if (
            cutoff is not None
            and actor not in self.managers
            and entry.start - now < timedelta(minutes=cutoff)
        ):
            return 403
        return 200

    def approve(self, *, actor: str, entry: Entry, now: datetime) -> int:
        if actor not in self.managers:
            return 403
        if entry.status != "pending" or entry.end <= now or entry.due <= now:
            return 422
        return 200

    def check_in(self, *, actor: str, entry: Entry, now: datetime) -> int:
        if actor != entry.organizer:
            return 403
        if entry.status not in ACTIVE:
            return 422
        if entry.checked_in:
            return 200
        closes = min(entry.end, entry.deadline) if entry.deadline else entry.end
        if now < entry.start - CHECK_IN_OPENS or now >= closes:
            return 422
        return 200

    # --- time passing: what the periodic jobs must have done ----------------------

    def tidy(self, now: datetime) -> None:
        for e in self.entries.values():
            if e.status == "pending" and e.due <= now:
                e.status = "rejected"
            elif (
                e.status == "confirmed" and e.deadline is not None and e.deadline <= now and not e.checked_in
            ):
                e.status = "released"
                cut = min(e.end, e.deadline)
                e.end = cut if cut > e.start else e.end


def last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)
