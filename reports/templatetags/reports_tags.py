from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(share) -> str:
    """0.1234 → "12,3 %" (in the active language's number format); "–" when there is none."""
    if share is None:
        return "–"
    return f"{number_format(share * 100, 1)} %"


@register.filter
def hours(value) -> str:
    return number_format(value, 1)
