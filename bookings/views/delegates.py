"""Delegates: whom a person lets book in their name, and for whom they may book."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..errors import InvalidBooking, NotAllowed
from ..models import Delegation
from ..selectors.delegates import delegations_given, delegations_received
from ..services.delegates import find_person, name_delegate, revoke_delegation
from .errors import DATABASE_UNAVAILABLE, db_unavailable


def page(request, *, error: str = "", typed: str = "", status: int = 200):
    context = {
        "nav": "mine",
        "given": delegations_given(request.user),
        "received": delegations_received(request.user),
        "error": error,
        "typed": typed,
    }
    return render(request, "bookings/delegates.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def delegates(request):
    """The user's delegates; a POST names one more (services.name_delegate)."""
    if request.method == "GET":
        return page(request)
    typed = request.POST.get("person", "")[:254]
    try:
        delegate = find_person(typed)
        name_delegate(principal=request.user, delegate=delegate, actor=request.user)
    except InvalidBooking as exc:
        return page(request, error=exc.message, typed=typed, status=422)
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/delegates.html", {"nav": "mine"})
    messages.success(
        request,
        _("%(name)s may now book for you.") % {"name": delegate.get_full_name() or delegate.get_username()},
    )
    return redirect("bookings:delegates")


@login_required
@require_POST
def revoke(request, pk: int):
    """End a delegation: the principal takes it back, or the delegate gives it up."""
    delegation = get_object_or_404(Delegation, pk=pk)
    try:
        revoke_delegation(delegation=delegation, actor=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/delegates.html", {"nav": "mine"})
    messages.success(request, _("The delegation was ended."))
    return redirect("bookings:delegates")
