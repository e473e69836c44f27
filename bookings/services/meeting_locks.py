"""One lock order for everything that changes the rooms of a meeting.

Its own module, on the models alone, so that the single-booking services (approvals, a
cancellation) take the lock without importing the meetings service that builds on them.
"""

from __future__ import annotations

from ..models import Booking, Meeting, MeetingRoom


def lock_meetings_of(booking_ids: list[int], *, skip_locked: bool = False) -> bool:
    """Before a booking of a meeting is changed on its own (a manager's decision, an expiry, a room
    given back): lock its meeting, then the meeting's active rooms in id order, as ``move_meeting``
    and ``cancel_meeting`` take them. Decisions, moves and cancellations of one meeting then take
    turns instead of each holding one room and waiting for another's (a deadlock PostgreSQL ends by
    rolling one back).

    Returns False, having locked nothing further, when ``skip_locked`` and another transaction holds
    a meeting (the caller leaves that booking for later); True otherwise, also for plain bookings.
    """
    meeting_ids = sorted(
        set(MeetingRoom.objects.filter(booking_id__in=booking_ids).values_list("meeting_id", flat=True))
    )
    if not meeting_ids:
        return True
    locked = list(
        Meeting.objects.select_for_update(skip_locked=skip_locked)
        .filter(pk__in=meeting_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(locked) != len(meeting_ids):
        return False
    list(
        Booking.objects.select_for_update(of=("self",))
        .filter(meeting_room__meeting_id__in=meeting_ids, status__in=Booking.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return True
