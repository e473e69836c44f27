"""Every write about displays: registry (tokens, PIN, push secret) and the door actions.

Door actions go through the booking services (create_booking, check_in_booking); they
are made by the display's own service user, so the audit log names the door. After
commit they bump the room's status version at once, so the door shows its own change
at the next poll without waiting for the outbox.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.combinations import sharing
from bookings.errors import InvalidBooking, NotAllowed
from bookings.models import Booking, Room
from bookings.services import create_booking
from bookings.services.checkin import check_in_booking

from . import cache
from .lookup import hash_token
from .models import Display
from .status import BOOK_NOW_MINUTES

PIN_RE = re.compile(r"\d{4,8}")
SERVICE_USER_PREFIX = "rfr-display-"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def display_url(raw_token: str) -> str:
    """Where the display's browser points; shown once, since only the hash is stored."""
    return f"{settings.RFR_PUBLIC_URL}/d/{raw_token}"


def _forget_on_commit(display: Display, *token_hashes: str) -> None:
    hashes = [h for h in token_hashes if h]
    display_id, room_id = display.pk, display.room_id

    def forget() -> None:
        cache.forget_tokens(hashes)
        cache.forget_status([display_id])
        cache.bump_room_versions([room_id])

    transaction.on_commit(forget)


@transaction.atomic
def create_display(
    *,
    room: Room,
    name: str = "",
    language: str = Display.Language.GERMAN,
    privacy: str = Display.Privacy.TITLES,
    allow_check_in: bool = True,
    allow_book_now: bool = True,
    push_url: str = "",
) -> tuple[Display, str]:
    """Register a display; returns it and its secret token (never stored, shown once)."""
    raw = new_token()
    display = Display.objects.create(
        room=room,
        name=name,
        token_hash=hash_token(raw),
        token_prefix=raw[:6],
        language=language,
        privacy=privacy,
        allow_check_in=allow_check_in,
        allow_book_now=allow_book_now,
        push_url=push_url,
        push_secret=secrets.token_urlsafe(32) if push_url else "",
    )
    return display, raw


def assign_token(display: Display) -> str:
    """Give an unsaved display its token (the admin's add form); returns the secret."""
    raw = new_token()
    display.token_hash, display.token_prefix = hash_token(raw), raw[:6]
    return raw


@transaction.atomic
def rotate_token(*, display: Display) -> str:
    """Replace the token: the old URL stops working at once; returns the new secret."""
    display = Display.objects.select_for_update().get(pk=display.pk)
    old_hash = display.token_hash
    raw = assign_token(display)
    display.revoked_at = None
    display.save(update_fields=["token_hash", "token_prefix", "revoked_at"])
    _forget_on_commit(display, old_hash)
    return raw


@transaction.atomic
def revoke_display(*, display: Display) -> None:
    """Revoke the token (its URL answers 404); rotating gives the display a new one."""
    display = Display.objects.select_for_update().get(pk=display.pk)
    if display.revoked_at is None:
        display.revoked_at = timezone.now()
        display.save(update_fields=["revoked_at"])
    _forget_on_commit(display, display.token_hash)


def settings_changed(*, display: Display) -> None:
    """After an edit in the admin: displays pick up the new settings at their next poll."""
    _forget_on_commit(display, display.token_hash)


def set_pin(*, display: Display, pin: str) -> None:
    """Set (4 to 8 digits) or, with "", remove the PIN; raises ValueError for another shape."""
    if pin and not PIN_RE.fullmatch(pin):
        raise ValueError("A PIN has 4 to 8 digits.")
    display.pin_hash = make_password(pin) if pin else ""
    if display.pk:
        display.save(update_fields=["pin_hash"])
        _forget_on_commit(display, display.token_hash)


def pin_matches(display: Display, pin: str) -> bool:
    return not display.pin_hash or (bool(pin) and check_password(pin, display.pin_hash))


def rotate_push_secret(*, display: Display) -> str:
    """A new shared secret for signing pushes; the display must be given it."""
    display.push_secret = secrets.token_urlsafe(32)
    display.save(update_fields=["push_secret"])
    return display.push_secret


def ensure_service_user(display: Display):
    """The display's own (inactive, password-less) user that organizes book-now bookings."""
    if display.service_user_id:
        return display.service_user
    user = get_user_model()(
        username=f"{SERVICE_USER_PREFIX}{display.pk}",
        first_name=(display.name or str(display.room))[:150],
        last_name=_("door display"),
        is_active=False,
    )
    user.set_unusable_password()
    user.save()
    display.service_user = user
    display.save(update_fields=["service_user"])
    return user


def _locked(display: Display) -> Display:
    return (
        Display.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "service_user")
        .get(pk=display.pk)
    )


def _bump_on_commit(room_id: int) -> None:
    transaction.on_commit(lambda: cache.bump_room_versions([room_id]))


@transaction.atomic
def check_in_at_door(*, display: Display, booking_id: int, now: datetime | None = None) -> Booking:
    """Check in the room's running or soon starting booking; raises NotAllowed or InvalidBooking."""
    now = now or timezone.now()
    display = _locked(display)
    if not display.allow_check_in:
        raise NotAllowed(_("Check-in is not available at this display."))
    booking = Booking.objects.filter(pk=booking_id, room_id__in=sharing(display.room_id)).first()
    if booking is None:
        raise InvalidBooking(_("There is no booking to check in right now."), field="booking")
    user = ensure_service_user(display)
    booking = check_in_booking(booking=booking, actor=user, source="display", now=now)
    _bump_on_commit(display.room_id)
    return booking


@transaction.atomic
def book_now_at_door(*, display: Display, minutes: int, now: datetime | None = None) -> Booking:
    """Book the room from now for 15, 30 or 60 minutes, checked in at once.

    Raises NotAllowed, InvalidBooking, or BookingConflict when the room is not free that long.
    """
    now = now or timezone.now()
    display = _locked(display)
    if not display.allow_book_now:
        raise NotAllowed(_("Booking is not available at this display."))
    if minutes not in BOOK_NOW_MINUTES:
        raise InvalidBooking(_("Choose 15, 30 or 60 minutes."), field="minutes")
    user = ensure_service_user(display)
    start = now.replace(second=0, microsecond=0)
    booking = create_booking(
        room=display.room,
        organizer=user,
        title=_("Booked at the door"),
        start=start,
        end=start + timedelta(minutes=minutes),
        source=Booking.Source.DISPLAY,
        actor=user,
        now=now,
    )
    booking = check_in_booking(booking=booking, actor=user, source="display", now=now)
    _bump_on_commit(display.room_id)
    return booking
