"""What the hand-written SQL of the hot reads (catalogue, availability, dayplan) shares."""

from __future__ import annotations

from ..models import Booking

# Booking.ACTIVE as an SQL list, "('pending', 'confirmed')", written into the statements
# rather than passed as a parameter: only then can the planner match it with the
# predicate of the partial index booking_active_span. The statuses are the model's own
# fixed choices, never user input, so quoting them here is safe.
ACTIVE_STATUSES = "(" + ", ".join(f"'{status}'" for status in Booking.ACTIVE) + ")"
