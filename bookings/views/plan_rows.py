"""The day plan's rows, rendered once and kept per process by what they show.

A 200-room plan page spent three quarters of its time rendering the rows' templates
(docs/performance.md, "The staff day plan page"). A row's markup is a pure function of
what it shows: the room, the day and its axis, the language, the bookings as this viewer
sees them (visible title, organizer), the blockings and whether they close the room to
the viewer, whether the viewer may book, the badges and the five-minute step of "now".
The cache key is exactly that tuple, so a changed booking, a new title, a renamed room
or another viewer's rights is another key: no entry can be stale, in this process or any
other, and nothing has to be told to forget. A row holding the viewer's own booking (a
link to its change page, the title even when private) carries the viewer's id in its key,
so it is only ever served to that viewer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from .. import plan_geometry
from ..selectors.privacy import title_rule
from ..selectors.timeline import Axis, Plan, Track, ceil_time, lay_out_row, organizer_name

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Rendered rows kept per process (about 1.3 KB each): a 200-room site over some days, in
# both languages, for viewers of a few kinds of rights.
MAX_ROWS = 8000
INDENT = re.compile(r"\n\s+")


class RowCache:
    """A bounded map of row keys to markup, least recently used dropped first."""

    def __init__(self, size: int = MAX_ROWS):
        self.size = size
        self._rows: OrderedDict[tuple, SafeString] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> SafeString | None:
        with self._lock:
            html = self._rows.get(key)
            if html is None:
                self.misses += 1
                return None
            self._rows.move_to_end(key)
            self.hits += 1
            return html

    def put(self, key: tuple, html: SafeString) -> None:
        with self._lock:
            self._rows[key] = html
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self.hits = self.misses = 0


rows = RowCache()


def rendered_rows(
    plan: Plan,
    *,
    day: date,
    viewer: User,
    now: datetime,
    tz: Any,
    approval_rooms: set[int],
    check_in_rooms: set[int],
) -> list[tuple[str, SafeString]]:
    """Each floor's rows as markup, from the cache where the same row was rendered before."""
    axis = plan.axis
    shown = title_rule(viewer)
    # Everything a row shares with the other rows of this plan.
    common = (
        get_language(),
        day,
        str(tz),
        axis.start,
        axis.end,
        plan_geometry.at(axis.now) if axis.now is not None else None,
        # Gaps are offered from the next five-minute step on (lay_out): clamped to the
        # axis, so a past or future day's rows do not change with the clock.
        min(max(axis.start, ceil_time(now)), axis.end),
    )
    template = None
    out = []
    for floor, tracks in plan.floors:
        markup = []  # joined into one string per floor: the page template has 40, not 200, to write
        for track in tracks:
            key = _row_key(track, common, shown, viewer, approval_rooms, check_in_rooms)
            html = rows.get(key)
            if html is None:
                template = template or get_template("bookings/_plan_row.html")
                html = _render(
                    template,
                    track,
                    axis,
                    viewer=viewer,
                    now=now,
                    tz=tz,
                    approval_rooms=approval_rooms,
                    check_in_rooms=check_in_rooms,
                )
                rows.put(key, html)
            markup.append(html)
        out.append((floor, mark_safe("\n".join(markup))))  # noqa: S308 (rendered rows, escaped)
    return out


def _row_key(
    track: Track, common: tuple, shown, viewer: User, approval_rooms: set[int], check_in_rooms: set[int]
) -> tuple:
    """What the row shows to this viewer, as a key."""
    bookings = []
    for b in track.bookings:
        title = shown(b["title"], b["private"], b["organizer_id"])
        mine = viewer.pk if b["organizer_id"] == viewer.pk else None  # links to its change page
        bookings.append((b["id"], *b["us"], title, organizer_name(b) if title is not None else None, mine))
    room = track.room
    return (
        *common,
        room.pk,
        room.name,
        room.capacity,
        room.bookable,
        tuple(getattr(room, "part_names", ())),
        track.can_book,
        room.pk in approval_rooms,
        room.pk in check_in_rooms,
        tuple((b.pk, b.span.lower, b.span.upper, b.reason, closes) for b, closes in track.blockings),
        tuple(bookings),
    )


def _render(
    template,
    track: Track,
    axis: Axis,
    *,
    viewer: User,
    now: datetime,
    tz: Any,
    approval_rooms: set[int],
    check_in_rooms: set[int],
) -> SafeString:
    laid_out = lay_out_row(track, axis, viewer=viewer, now=now)
    html = template.render(
        {
            "track": laid_out,
            "axis": axis,
            "tz": tz,
            "needs_approval": track.room.pk in approval_rooms,
            "needs_check_in": track.room.pk in check_in_rooms,
        }
    )
    # The template's indentation, not kept: a line break shows as the same space.
    return mark_safe(INDENT.sub("\n", html))  # noqa: S308 (our own template's output, escaped by it)
