"""How the staff pages answer a refusal: the pages' counterpart of the API's error handlers.

A domain error (bookings/errors.py) becomes a form error or a message with the status
from one table; a database that cannot take a write (unreachable, or a read-only
standby) becomes the same page again with the reason and a 503, so the user keeps what
they typed. The API answers the same errors in JSON from its own handler table, the door
displays in displays/views.py.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import InterfaceError, InternalError, OperationalError
from django.forms import Form
from django.shortcuts import render
from django.utils.translation import gettext as _

from raumfuerraum import read_only

from ..errors import BookingConflict, BookingError, InvalidBooking, NotAllowed
from ..selectors.privacy import visible_title

log = logging.getLogger("rfr.ui")

# A write the database could not take: connection lost (OperationalError, InterfaceError)
# or refused (InternalError, which is how a read-only standby says no). Nothing was written.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, InternalError)

# The status of a page whose form was refused, by error class; the first match wins.
FORM_STATUS: tuple[tuple[type[BookingError], int], ...] = (
    (BookingConflict, 409),
    (InvalidBooking, 422),  # also StaleBooking (the API's 412): on a page it reads as bad input
    (BookingError, 403),  # PolicyViolation, NotAllowed
)


def form_status(exc: BookingError) -> int:
    return next(status for cls, status in FORM_STATUS if isinstance(exc, cls))


def refuse_form(form: Form, exc: BookingError, *, fields: dict[str, str] | None = None) -> int:
    """Show the refusal on the form and return the page's status.

    The error goes to the form field the service names (``fields`` maps the service's
    names to the form's, by default the form's own fields), else above the form.
    """
    names = fields if fields is not None else {name: name for name in form.fields}
    field = getattr(exc, "field", None)
    form.add_error(names.get(field) if field else None, exc.message)
    return form_status(exc)


def decision_status(exc: BookingError) -> int:
    """The status of a refused approval or rejection (its message goes to ``messages``)."""
    if isinstance(exc, NotAllowed):
        return 403
    if isinstance(exc, InvalidBooking) and exc.field == "status":
        return 409  # decided meanwhile, by someone else or by the clock
    return 422


def conflict_context(exc: BookingConflict, viewer) -> dict:
    """What a page lists under a conflict: the bookings in the way and, for a series, its taken dates.

    Others' private titles never show, also not among the taken dates.
    """
    return {
        "blockers": [
            {
                "title": visible_title(
                    b.title, private=b.private, organizer_id=b.organizer_id, viewer=viewer
                ),
                "start": b.start,
                "end": b.end,
            }
            for b in exc.conflicts
        ],
        "occurrences": taken_dates(exc, viewer),
    }


def taken_dates(exc: BookingConflict, viewer) -> list[dict]:
    """Each refused date of a series and who is in its way (others' private titles hidden)."""
    return [
        {
            "start": start,
            "end": end,
            "titles": [
                visible_title(b.title, private=b.private, organizer_id=b.organizer_id, viewer=viewer)
                for b in bookings
            ],
        }
        for start, end, bookings in exc.occurrences
    ]


def db_unavailable(request, exc: Exception, template: str, context: dict):
    """A write the database could not take: unreachable, or a read-only standby. Nothing was written."""
    if read_only.is_read_only_error(exc):
        read_only.remember_read_only()
        messages.error(request, read_only.message())
    else:
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
        messages.error(request, _("The database is not reachable right now; please try again shortly."))
    return render(request, template, context, status=503)
