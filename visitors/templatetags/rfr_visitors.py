from django import template
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q

from ..models import Reception

register = template.Library()


@register.simple_tag
def works_any_reception(user) -> bool:
    """Whether the header links to the reception (one query, remembered on the user).

    Every page asks, so the two ways in (a desk's group, the admin permission of
    access.is_admin) are one EXISTS query instead of has_perm's two and a group read.
    """
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_rfr_reception", None)
    if cached is None:
        desk = Reception.objects.filter(group__user=OuterRef("pk"))
        admin = Permission.objects.filter(codename="change_visit", content_type__app_label="visitors").filter(
            Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk"))
        )
        cached = user.is_superuser or (
            get_user_model().objects.filter(pk=user.pk).filter(Exists(desk) | Exists(admin)).exists()
        )
        user._rfr_reception = cached
    return cached
