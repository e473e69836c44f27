from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(share) -> str:
    """0.1234 → "12,3 %" (in the active language's number format); "–" when there is none."""
    if share is None:
        return "–"
    # Rounded here (number_format would cut 16.66 to 16.6).
    return f"{number_format((Decimal(share) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP), 1)} %"


@register.filter
def hours(value) -> str:
    return number_format(value, 1)


@register.simple_tag
def sees_reports(user, is_room_manager: bool = False) -> bool:
    """Whether the header links to the reports: room managers (their rooms) and staff with
    the reports permission. A query only for staff, once per request (remembered on the user)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or is_room_manager:
        return True
    if not user.is_staff:
        return False
    cached = getattr(user, "_rfr_reports", None)
    if cached is None:
        cached = (
            Permission.objects.filter(codename="view_reports", content_type__app_label="reports")
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        user._rfr_reports = cached
    return cached
