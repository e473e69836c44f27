"""Erasing one person on request (Art. 17 GDPR) while keeping what other people need.

What goes: their name, e-mail, sign-in, titles and attendee lists of the meetings they
organized, the notes on their orders, their e-mail address in other people's attendee
lists, the data of their past visitors, their calendar subscriptions, API tokens and
delegations, the sign-in failures recorded under their user name.

What stays: every booking as a row (the room's occupancy, for reports and the room's
history) with the organizer replaced by the placeholder "ehemalige/r Mitarbeiter/in";
order lines and their amounts (accounting must keep them); the audit logs, which name
the person's emptied user row ("erased-<id>") and are append-only.

Their future bookings are cancelled through the booking core (so Exchange, displays and
orders hear of it) and their future visits too (the visitors are told; the ordinary
retention erases those visitors' data after the planned visit).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext as _

from bookings.errors import InvalidBooking, NotAllowed
from bookings.models import ApiToken, Booking, BookingEvent, CalendarFeed, Delegation, Series
from bookings.services.audit import empty_details
from bookings.services.bookings import mark_cancelled
from orders.models import DayListLook, Order, UserCostCentre
from visitors import services as visitor_services
from visitors.models import Visit, Visitor
from visitors.retention import PERSONAL

from .access import is_privacy_admin
from .models import PrivacyEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PLACEHOLDER_USERNAME = "former-employee"
PLACEHOLDER_NAME = "ehemalige/r Mitarbeiter/in (former employee)"


@dataclass
class Erasure:
    bookings_pseudonymised: int = 0
    bookings_cancelled: int = 0
    attendee_entries_removed: int = 0
    series: int = 0
    orders: int = 0
    visits: int = 0
    visits_cancelled: int = 0
    visitors_erased: int = 0
    subscriptions_revoked: int = 0
    tokens_revoked: int = 0
    delegations_revoked: int = 0
    sign_in_records_deleted: int = 0


def placeholder() -> User:
    """The one inactive user that stands in as organizer of erased people's meetings."""
    user, created = get_user_model().objects.get_or_create(
        username=PLACEHOLDER_USERNAME, defaults={"first_name": PLACEHOLDER_NAME, "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _array_remove(field: str, value: str) -> Func:
    return Func(F(field), Value(value), function="array_remove")


@transaction.atomic
def erase_person(*, person: User, actor: User, now: datetime) -> Erasure:
    """Erase one person's personal data, keeping others' (see the module). Raises NotAllowed,
    InvalidBooking (the placeholder itself, or oneself)."""
    if not is_privacy_admin(actor):
        raise NotAllowed(_("Only administrators handle other people's personal data."))
    if person.pk == actor.pk:
        raise InvalidBooking(_("Ask another administrator to erase your own account."), field="person")
    if person.get_username() == PLACEHOLDER_USERNAME:
        raise InvalidBooking(_("The placeholder for former employees cannot be erased."), field="person")
    # Locked first, so two admins erasing the same person at once run one after the other.
    person = get_user_model().objects.select_for_update().get(pk=person.pk)
    stand_in = placeholder()
    done = Erasure()
    email, username = person.email, person.get_username()

    # Their meetings still to come are cancelled, as the organizer would (orders end too).
    mine = Q(organizer=person)
    upcoming = Booking.objects.select_for_update(of=("self",)).filter(
        mine, status__in=Booking.ACTIVE, span__startswith__gt=now
    )
    for booking in upcoming.select_related("room__floor__building__site").order_by("pk"):
        mark_cancelled(booking, actor=actor, now=now, reason="erasure")
        done.bookings_cancelled += 1

    # All their meetings stay in the rooms' history, without title, attendees or name.
    ids = list(Booking.objects.filter(mine).order_by("pk").values_list("pk", flat=True))
    Booking.objects.filter(pk__in=ids).update(
        organizer=stand_in, title="", attendees=[], version=F("version") + 1, updated_at=now
    )
    delegated = list(Booking.objects.filter(booked_by=person).values_list("pk", flat=True))
    Booking.objects.filter(pk__in=delegated).update(booked_by=stand_in)
    done.bookings_pseudonymised = len(ids)
    # Earlier audit entries of those meetings may hold the titles and attendees just
    # cleared: their details go too (who did what, and when, stays).
    empty_details(BookingEvent.objects.filter(booking_id__in=ids))
    events = [
        BookingEvent(
            booking_id=pk,
            kind=BookingEvent.Kind.UPDATED,
            actor=actor,
            at=now,
            changes={"erased": "organizer"},
        )
        for pk in ids
    ] + [
        BookingEvent(
            booking_id=pk,
            kind=BookingEvent.Kind.UPDATED,
            actor=actor,
            at=now,
            changes={"erased": "booked_by"},
        )
        for pk in delegated
        if pk not in set(ids)
    ]
    # Their series end: the future occurrences are cancelled above, none are added.
    series = Series.objects.filter(
        pk__in=list(Series.objects.filter(organizer=person).values_list("pk", flat=True))
    )
    series.filter(cancelled_at__isnull=True).update(cancelled_at=now)
    done.series = series.update(organizer=stand_in, title="", attendees=[])

    # Their address in other people's attendee lists: only that entry goes.
    if email:
        attended = list(Booking.objects.filter(attendees__contains=[email]).values_list("pk", flat=True))
        Booking.objects.filter(pk__in=attended).update(attendees=_array_remove("attendees", email))
        Series.objects.filter(attendees__contains=[email]).update(attendees=_array_remove("attendees", email))
        done.attendee_entries_removed = len(attended)
        events += [
            BookingEvent(
                booking_id=pk,
                kind=BookingEvent.Kind.UPDATED,
                actor=actor,
                at=now,
                changes={"erased": "attendee"},
            )
            for pk in attended
        ]
    BookingEvent.objects.bulk_create(events)

    # Order lines stay for accounting, their notes and the person's name do not.
    done.orders = Order.objects.filter(ordered_by=person).update(ordered_by=stand_in, note="")
    UserCostCentre.objects.filter(user=person).delete()
    DayListLook.objects.filter(user=person).delete()

    # Visits: future ones cancelled (visitors told), past visitors' data erased now.
    for visit in Visit.objects.filter(host=person, cancelled_at__isnull=True, start__gt=now).order_by("pk"):
        visitor_services.cancel_visit(visit=visit, actor=None, reason="erasure")
        done.visits_cancelled += 1
    past = Visitor.objects.filter(visit__host=person, visit__end__lte=now, anonymised_at__isnull=True)
    done.visitors_erased = past.update(**PERSONAL, anonymised_at=now)
    done.visits = Visit.objects.filter(host=person).update(host=stand_in)

    done.subscriptions_revoked = CalendarFeed.objects.filter(user=person, revoked_at__isnull=True).update(
        revoked_at=now
    )
    done.tokens_revoked = ApiToken.objects.filter(user=person, revoked_at__isnull=True).update(revoked_at=now)
    done.delegations_revoked = Delegation.objects.filter(
        Q(principal=person) | Q(delegate=person), revoked_at__isnull=True
    ).update(revoked_at=now)
    done.sign_in_records_deleted = (
        AccessAttempt.objects.filter(username=username).delete()[0]
        + AccessFailureLog.objects.filter(username=username).delete()[0]
    )

    # The row stays (the audit logs point at it), emptied and unable to sign in.
    person.username = f"erased-{person.pk}"
    person.first_name = person.last_name = person.email = ""
    person.is_active = person.is_staff = person.is_superuser = False
    person.set_unusable_password()
    person.save()
    person.groups.clear()
    person.user_permissions.clear()

    PrivacyEvent.objects.create(
        kind=PrivacyEvent.Kind.ERASED, subject=person, actor=actor, at=now, changes=asdict(done)
    )
    return done
