"""Which cost centre a booking is charged to: the one named, else the booking's, else the user's default.

An admin's default (UserCostCentre) wins; without one, the directory's attribute named by
RFR_COST_CENTRE_ATTRIBUTE (synced onto the directory account) names it by its code, or by
the first word of a value such as "2100 Vertrieb". A site may require one for every booking
with services or a room price (SiteAccounting).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from .errors import InvalidOrder
from .models import BookingCostCentre, CostCentre, SiteAccounting, UserCostCentre

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def from_directory(user: User) -> CostCentre | None:
    """The cost centre the user's directory attribute names, if any (none for local accounts)."""
    name = settings.RFR_COST_CENTRE_ATTRIBUTE
    # Read through the reverse relation: orders does not import the directory app.
    account = getattr(user, "directory_account", None) if name else None
    value = (getattr(account, name, "") or "").strip() if account else ""
    if not value:
        return None
    return CostCentre.objects.filter(Q(code=value) | Q(code=value.split()[0])).order_by("-code").first()


def default_for(user: User) -> CostCentre | None:
    """The user's default cost centre: the admin's choice, else the directory's; None without either."""
    chosen = UserCostCentre.objects.select_related("cost_centre").filter(user=user).first()
    return chosen.cost_centre if chosen else from_directory(user)


def of_booking(booking) -> CostCentre | None:
    """The cost centre the booking names (for its room and as its lines' default), or None."""
    chosen = BookingCostCentre.objects.select_related("cost_centre").filter(booking=booking).first()
    return chosen.cost_centre if chosen else None


def resolve(*, user: User, code: str | None, day: date, booking=None) -> CostCentre:
    """The named cost centre, else the booking's, else the user's default.

    Raises InvalidOrder if it is unknown, missing or not valid on ``day``.
    """
    named = of_booking(booking) if booking is not None and not (code and code.strip()) else None
    if named is not None:
        centre = named
    elif code and code.strip():
        centre = CostCentre.objects.filter(code=code.strip()).first()
        if centre is None:
            raise InvalidOrder(
                _("There is no cost centre %(code)s.") % {"code": code.strip()[:20]}, field="cost_centre"
            )
    else:
        centre = default_for(user)
        if centre is None:
            raise InvalidOrder(
                _("Please name a cost centre: you have no default cost centre."), field="cost_centre"
            )
    if not centre.valid_on(day):
        raise InvalidOrder(
            _("The cost centre %(code)s is not valid on %(day)s.")
            % {"code": centre.code, "day": formats.date_format(day, "SHORT_DATE_FORMAT")},
            field="cost_centre",
        )
    return centre


def required_at(site_id: int) -> bool:
    """Whether the site requires a cost centre for bookings with services or a price."""
    return SiteAccounting.objects.filter(site_id=site_id, require_cost_centre=True).exists()
