from django import template

from ..access import is_admin, reception_site_ids

register = template.Library()


@register.simple_tag
def works_any_reception(user) -> bool:
    """Whether the header links to the reception (one query, remembered on the user)."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_rfr_reception", None)
    if cached is None:
        cached = is_admin(user) or bool(reception_site_ids(user))
        user._rfr_reception = cached
    return cached
