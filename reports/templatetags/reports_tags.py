from decimal import ROUND_HALF_UP, Decimal

from django import template
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
