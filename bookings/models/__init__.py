"""The booking domain's models, one module per topic; import them from here."""

from .audit import AuditEvent
from .bookings import Booking, BookingEvent, Series
from .combined import BookingHold, RoomPart
from .delegation import Delegation
from .feeds import CalendarFeed
from .meetings import Meeting, MeetingRoom
from .places import Building, Equipment, Floor, Room, Site, validate_time_zone, zone_city
from .policies import Blocking, Policy, PolicyHours
from .records import ApiToken, IdempotencyKey, OutboxMessage
from .waiting import WaitingEntry

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Blocking",
    "Booking",
    "BookingEvent",
    "BookingHold",
    "Building",
    "CalendarFeed",
    "Delegation",
    "Equipment",
    "Floor",
    "IdempotencyKey",
    "Meeting",
    "MeetingRoom",
    "OutboxMessage",
    "Policy",
    "PolicyHours",
    "Room",
    "RoomPart",
    "Series",
    "Site",
    "WaitingEntry",
    "validate_time_zone",
    "zone_city",
]
